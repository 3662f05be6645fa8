// The benchmark peer: aws-local-stepfunctions, warm in one long-lived process.
//
// Reads one JSON request per stdin line: {name, definition, input, seconds}; runs the
// definition through the library API (warm-up first, then as many executions as fit in
// `seconds`, at least one) and answers one JSON line: {name, runs, latencies_ns, output}.

// Node 20 lacks Promise.withResolvers, which the library uses.
if (typeof Promise.withResolvers !== 'function') {
  Promise.withResolvers = function withResolvers() {
    let resolve;
    let reject;
    const promise = new Promise((res, rej) => {
      resolve = res;
      reject = rej;
    });
    return { promise, resolve, reject };
  };
}

import { StateMachine } from 'aws-local-stepfunctions';
import { createInterface } from 'node:readline';

async function runOnce(machine, input) {
  const execution = machine.run(input);
  return execution.result;
}

async function measure(req) {
  const machine = new StateMachine(req.definition, {
    validationOptions: { checkPaths: false, checkArn: false },
  });
  // Warm-up: JIT and caches, as a long-lived host would have them.
  let output = await runOnce(machine, req.input);
  const latencies = [];
  const budgetNs = BigInt(Math.round(req.seconds * 1e9));
  const start = process.hrtime.bigint();
  do {
    const t0 = process.hrtime.bigint();
    output = await runOnce(machine, req.input);
    latencies.push(Number(process.hrtime.bigint() - t0));
  } while (process.hrtime.bigint() - start < budgetNs);
  return { name: req.name, runs: latencies.length, latencies_ns: latencies, output };
}

const rl = createInterface({ input: process.stdin, crlfDelay: Infinity });
for await (const line of rl) {
  if (!line.trim()) continue;
  let req;
  try {
    req = JSON.parse(line);
    const res = await measure(req);
    process.stdout.write(JSON.stringify(res) + '\n');
  } catch (err) {
    process.stdout.write(JSON.stringify({ name: req?.name ?? '?', error: String(err?.stack ?? err) }) + '\n');
  }
}
