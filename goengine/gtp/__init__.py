"""The GTP front end. See each module's docstring; this file only re-exports."""

from .engine import NAME, VERSION, Engine, EngineOptions, Stream
from .protocol import Command, GtpError, clean_line, failure, parse_command, success
from .server import Server
from .timecontrol import Clock, TimePolicy, TimeSettings

__all__ = ["NAME", "VERSION", "Engine", "EngineOptions", "Stream", "Command", "GtpError", "clean_line",
           "failure", "parse_command", "success", "Server", "Clock", "TimePolicy", "TimeSettings"]
