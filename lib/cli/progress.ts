/**
 * How `dyco-rl train` shows a run: a progress bar with ETA and live reward / accuracy on a
 * terminal (cli-progress), plain lines otherwise (CI logs, pipes).
 * @packageDocumentation
 */
import cliProgress from 'cli-progress';
import type { TrainerEvent } from '../trainer/trainer.js';

const pct = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '  –  ' : `${(v * 100).toFixed(1)}%`);
const num = (v: number | undefined, digits = 3) => (v === undefined ? '–' : v.toFixed(digits));

export interface ProgressReporter {
  onEvent(event: TrainerEvent): void;
  stop(): void;
}

export function createReporter(interactive: boolean, log: (line: string) => void = console.log): ProgressReporter {
  let bar: cliProgress.SingleBar | undefined;
  let done = 0;
  let total = 0;
  let heldOut: number | undefined;
  const line = (text: string) => {
    if (bar) bar.stop();
    log(text);
    if (bar) {
      bar = undefined;
      start();
    }
  };
  const start = () => {
    if (!interactive) return;
    bar = new cliProgress.SingleBar(
      { format: '{phase} |{bar}| {value}/{total} steps | ETA {eta_formatted} | reward {reward} | acc {accuracy} | held-out {heldOut}', hideCursor: true, etaBuffer: 20 },
      cliProgress.Presets.shades_classic,
    );
    bar.start(total, done, { phase: 'train', reward: '–', accuracy: '–', heldOut: pct(heldOut) });
  };
  let sftEvery = 10;
  let rlEvery = 10;
  return {
    onEvent(event) {
      switch (event.type) {
        case 'start':
          total = event.totalSteps;
          done = event.doneSteps;
          // Plain output: about 20 lines per phase, whatever its length.
          sftEvery = Math.max(1, Math.round(event.config.sftSteps / 20));
          rlEvery = Math.max(1, Math.round(event.config.steps / 40));
          log(
            `${event.resumed ? 'resuming' : 'training'}: ${event.config.algorithm}, DyCo ${event.config.dyco}, ${event.parameters.toLocaleString()} parameters on ${event.device}; ` +
              `${event.config.sftSteps} warm-start + ${event.config.steps} RL steps`,
          );
          start();
          break;
        case 'sft':
          done++;
          if (bar) bar.update(done, { phase: 'warm-start', reward: '–', accuracy: `loss ${num(event.metrics.loss)}` });
          else if (event.metrics.step % sftEvery === 0) log(`warm-start ${event.metrics.step}: loss ${num(event.metrics.loss)}`);
          break;
        case 'rl': {
          done++;
          const m = event.metrics;
          if (bar) bar.update(done, { phase: 'RL', reward: num(m.reward), accuracy: pct(m.accuracy), heldOut: pct(heldOut) });
          else if (m.step % rlEvery === 0 || m.step === 1)
            log(`RL ${m.step}: reward ${num(m.reward)}, accuracy ${pct(m.accuracy)}, kl ${num(m.kl, 4)}, clip ${pct(m.clipFraction)}, roles v/t/n ${pct(m.visionShare)}/${pct(m.textShare)}/${pct(m.neutralShare)}`);
          break;
        }
        case 'eval':
          heldOut = event.metrics.heldOutAccuracy;
          line(`held-out accuracy (${event.label === 'beforeRl' ? 'after warm start, before RL' : event.label === 'during' ? `RL step ${event.metrics.step}` : event.label}): ${pct(heldOut)}`);
          break;
        case 'checkpoint':
          if (!bar) log(`checkpoint: ${event.path}`);
          break;
        case 'stopped':
          if (bar) bar.stop();
          bar = undefined;
          if (event.interrupted) log('stopped: checkpoint written; continue with --resume');
          break;
      }
    },
    stop() {
      bar?.stop();
      bar = undefined;
    },
  };
}
