import { type LogOutput, stdoutSink } from '../../proxy/log';

/** An output whose asynchronous writes complete when the test says (`complete`), `max` bytes at a time. */
function slowOutput(max = Number.POSITIVE_INFINITY) {
  const written: string[] = [];
  const pending: (() => void)[] = [];
  const output: LogOutput = {
    write(data, offset, done) {
      pending.push(() => {
        const n = Math.min(max, data.length - offset);
        written.push(data.subarray(offset, offset + n).toString('utf8'));
        done(null, n);
      });
    },
    writeSync(data) {
      written.push(data.toString('utf8'));
    },
  };
  const complete = () => {
    while (pending.length > 0) pending.shift()?.();
  };
  return { output, written, pending, complete, text: () => written.join('') };
}

const later = () => new Promise((resolve) => setTimeout(resolve, 30));

describe('the log sink', () => {
  it('gathers lines for a few milliseconds and writes them in one asynchronous write, in order', async () => {
    const out = slowOutput();
    const sink = stdoutSink(out.output);
    sink.line('a');
    sink.line('b');
    expect(out.pending).toHaveLength(0);
    await later();
    expect(out.pending).toHaveLength(1);
    out.complete();
    expect(out.text()).toBe('a\nb\n');
  });

  it('queues behind the write under way (one at a time) and finishes partial writes', async () => {
    const out = slowOutput(3);
    const sink = stdoutSink(out.output);
    sink.line('first');
    await later();
    sink.line('second');
    sink.line('third');
    await later();
    expect(out.pending).toHaveLength(1);
    const flushed = sink.flush();
    for (let i = 0; i < 20 && out.pending.length > 0; i++) out.complete();
    await flushed;
    expect(out.text()).toBe('first\nsecond\nthird\n');
  });

  it('drops lines past the bound while the output is stuck, and says how many once it catches up', async () => {
    const out = slowOutput();
    const sink = stdoutSink(out.output, { maxPendingChars: 10 });
    sink.line('head');
    await later();
    for (let i = 0; i < 5; i++) sink.line(`line${i}`); // 6 characters each: two fit
    out.complete();
    const flushed = sink.flush();
    out.complete();
    await flushed;
    const lines = out.text().trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual(['head', 'line0', 'line1']);
    expect(JSON.parse(lines[3])).toMatchObject({ level: 'warn', msg: 'log lines dropped', dropped: 3 });
  });

  it('writes a large batch at once, and the rest synchronously before a fatal exit', async () => {
    const out = slowOutput();
    const sink = stdoutSink(out.output, { batchChars: 8 });
    sink.line('0123456789');
    expect(out.pending).toHaveLength(1);
    sink.line('last');
    sink.flushSync();
    expect(out.written).toEqual(['last\n']);
  });

  it('stops writing once stdout is gone', async () => {
    let writes = 0;
    const sink = stdoutSink({
      write: (_data, _offset, done) => {
        writes++;
        done(Object.assign(new Error('EPIPE'), { code: 'EPIPE' }), 0);
      },
      writeSync: () => {
        throw new Error('EPIPE');
      },
    });
    sink.line('a');
    await later();
    sink.line('b');
    await later();
    await sink.flush();
    sink.flushSync();
    expect(writes).toBe(1);
  });
});
