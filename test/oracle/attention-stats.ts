/**
 * Float64 reference for the per-token attention statistics (method §2 and the ratios of §4).
 */
import type { AttentionStatsShape } from '../../lib/index.js';
import { frOverIndices } from './fisher-rao.js';

export type { AttentionStatsShape };

export interface AttentionStatsRef {
  ratioVis: Float64Array;
  ratioTxt: Float64Array;
  frVis: Float64Array;
  frTxt: Float64Array;
}

/**
 * For row (b,t) with L = lengths[b,t]: r_vis / r_txt = attention mass on vision / text keys < L;
 * ρ = r / max(r_vis + r_txt, 1e-8). For t ≥ 1 and m = min(L_{t−1}, L_t): FR between the previous
 * and current row restricted to the region's keys < m, each renormalised (zero mass → uniform);
 * no region keys below m → 0. "Other" keys are never read.
 */
export function attentionStatsRef(attn: ArrayLike<number>, shape: AttentionStatsShape): AttentionStatsRef {
  const { batch, steps, keys, modality, lengths } = shape;
  const n = batch * steps;
  const ratioVis = new Float64Array(n);
  const ratioTxt = new Float64Array(n);
  const frVis = new Float64Array(n);
  const frTxt = new Float64Array(n);
  const vis: number[] = [];
  const txt: number[] = [];
  for (let k = 0; k < keys; k++) {
    if (modality[k] === 1) vis.push(k);
    else if (modality[k] === 2) txt.push(k);
  }
  const below = (idx: number[], lim: number) => idx.filter((k) => k < lim);
  for (let b = 0; b < batch; b++) {
    for (let t = 0; t < steps; t++) {
      const i = b * steps + t;
      const L = lengths ? lengths[i]! : keys;
      const row = i * keys;
      let rv = 0;
      let rt = 0;
      for (const k of vis) if (k < L) rv += attn[row + k]!;
      for (const k of txt) if (k < L) rt += attn[row + k]!;
      const den = Math.max(rv + rt, 1e-8);
      ratioVis[i] = rv / den;
      ratioTxt[i] = rt / den;
      if (t >= 1) {
        const Lp = lengths ? lengths[i - 1]! : keys;
        const m = Math.min(Lp, L);
        const prev = row - keys;
        frVis[i] = frOverIndices(attn, prev, attn, row, below(vis, m));
        frTxt[i] = frOverIndices(attn, prev, attn, row, below(txt, m));
      }
    }
  }
  return { ratioVis, ratioTxt, frVis, frTxt };
}
