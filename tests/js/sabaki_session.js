// Drives `goengine gtp` with Sabaki's own GTP library (@sabaki/gtp): the start-up queries a GUI
// makes, a short game, and an lz-analyze session interrupted by the next command, as Sabaki
// does. Prints one JSON object with what it saw on stdout; the pytest side checks it.
//
// usage: node sabaki_session.js PYTHON [engine arguments...]

const {Controller} = require('@sabaki/gtp')

async function main() {
  const [python, ...engineArgs] = process.argv.slice(2)
  const engine = new Controller(python, ['-m', 'goengine.cli', 'gtp', ...engineArgs])
  const stderr = []
  engine.on('stderr', ({content}) => stderr.push(content))
  engine.start()
  const report = {replies: {}, moves: [], analysis: [], errors: []}
  const send = async (name, ...args) => {
    const response = await engine.sendCommand({name, args})
    if (response.error) report.errors.push(`${name} ${args.join(' ')}: ${response.content}`)
    return response
  }
  try {
    for (const name of ['name', 'version', 'protocol_version', 'list_commands']) {
      report.replies[name] = (await send(name)).content
    }
    await send('boardsize', '9')
    await send('clear_board')
    await send('komi', '7.5')
    for (const [colour, vertex] of [['B', 'E5'], ['W', 'C3']]) {
      await send('play', colour, vertex)
      report.moves.push(vertex)
    }
    for (const colour of ['B', 'W', 'B']) {
      const vertex = (await send('genmove', colour)).content
      report.moves.push(vertex)
    }
    // Analysis streams until the next command arrives; Sabaki sends it while the reply is open.
    const analyse = async (name, args, key) => {
      let stopSent = null
      report[key] = []
      const response = await engine.sendCommand({name, args}, ({line}) => {
        if (line.startsWith('info')) report[key].push(line)
        if (report[key].length >= 3 && stopSent === null) {
          stopSent = engine.sendCommand({name: 'stop'})
        }
      })
      report[key + 'Header'] = response.error ? '?' : '='
      report[key + 'Stop'] = stopSent === null ? null : (await stopSent).content
    }
    await analyse('lz-analyze', ['W', '10'], 'analysis')
    await analyse('kata-analyze', ['W', '10', 'ownership', 'true'], 'kataAnalysis')
    report.boardAfter = (await send('showboard')).content
    // Sabaki's genmove when the engine lists kata-genmove_analyze: lines, then `play <vertex>`.
    report.genmoveLines = []
    const final = await engine.sendCommand({name: 'kata-genmove_analyze', args: ['W', '10']}, ({line}) => {
      if (line.trim() !== '') report.genmoveLines.push(line)
    })
    if (final.error) report.errors.push(`kata-genmove_analyze: ${final.content}`)
    const last = report.genmoveLines[report.genmoveLines.length - 1] || ''
    report.moves.push(last.startsWith('play ') ? last.slice(5) : `missing play line: ${last}`)
  } catch (err) {
    report.errors.push(String(err))
  }
  await engine.stop(5000)
  report.stderrTail = stderr.slice(-5)
  process.stdout.write(JSON.stringify(report) + '\n')
}

main()
