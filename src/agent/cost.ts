import type { Cost, RuntimeCost } from '../core/events.js';
import type { Item, StepUsage } from '../core/items.js';
import { failConfig, isObject } from '../core/options.js';

/** USD per million tokens for one runtime or model. */
export interface Price {
  inputPerMTok: number;
  outputPerMTok: number;
  /** Cached input tokens; default inputPerMTok. */
  cachedInputPerMTok?: number;
  /** Reasoning tokens (counted among output tokens); default outputPerMTok. */
  reasoningPerMTok?: number;
}

/** Keyed by runtime id (exact) or model (what follows the last '/' of a runtime id). */
export type Prices = Record<string, Price>;

const REQUIRED_RATES = ['inputPerMTok', 'outputPerMTok'] as const;
const RATES = new Set<string>([...REQUIRED_RATES, 'cachedInputPerMTok', 'reasoningPerMTok']);

/** Checks `prices` at the boundary, naming the exact key that is wrong. */
export function parsePrices(prices: unknown): Prices | undefined {
  if (prices === undefined) return undefined;
  const where = 'createAgent: option';
  if (!isObject(prices) || Array.isArray(prices)) {
    failConfig(
      `${where} "prices" must be an object keyed by runtime id or model, e.g. { "gpt-4o": { inputPerMTok: 2.5, outputPerMTok: 10 } }.`,
      'prices',
    );
  }
  const checked: Prices = {};
  for (const [key, price] of Object.entries(prices)) {
    const at = `prices[${JSON.stringify(key)}]`;
    if (!isObject(price) || Array.isArray(price)) {
      failConfig(`${where} "${at}" must be an object { inputPerMTok, outputPerMTok } in USD.`, at);
    }
    for (const rate of REQUIRED_RATES) {
      if (!(rate in price))
        failConfig(`${where} "${at}.${rate}" is missing: give the USD per million tokens.`, `${at}.${rate}`);
    }
    for (const [rate, value] of Object.entries(price)) {
      const path = `${at}.${rate}`;
      if (!RATES.has(rate)) {
        failConfig(`${where} "${path}" is not a price. Prices are ${[...RATES].join(', ')}.`, path);
      }
      if (value === undefined && !REQUIRED_RATES.includes(rate as (typeof REQUIRED_RATES)[number])) continue;
      if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
        failConfig(
          `${where} "${path}" must be a finite number of USD per million tokens, 0 or more (got ${typeof value === 'string' ? JSON.stringify(value) : String(value)}).`,
          path,
        );
      }
    }
    checked[key] = price as unknown as Price;
  }
  return checked;
}

function priceOf(prices: Prices, runtimeId: string): Price | undefined {
  const exact = prices[runtimeId];
  if (exact && Object.hasOwn(prices, runtimeId)) return exact;
  const model = runtimeId.slice(runtimeId.lastIndexOf('/') + 1);
  return Object.hasOwn(prices, model) ? prices[model] : undefined;
}

/**
 * Token counts are cloudhop's normalized ones: input includes cached input (Bedrock's cache reads
 * are added in by its runtime) and output includes reasoning, so each token is charged once, at
 * its own rate.
 */
function usdOf(price: Price, usage: StepUsage): number {
  const cached = usage.cachedInputTokens ?? 0;
  const reasoning = usage.reasoningTokens ?? 0;
  const perToken =
    (usage.inputTokens - cached) * price.inputPerMTok +
    cached * (price.cachedInputPerMTok ?? price.inputPerMTok) +
    (usage.outputTokens - reasoning) * price.outputPerMTok +
    reasoning * (price.reasoningPerMTok ?? price.outputPerMTok);
  return perToken / 1_000_000;
}

/** Sums usage per runtime and prices it; runtimes without a price are listed apart. */
export class CostMeter {
  private readonly byRuntime = new Map<string, StepUsage>();

  constructor(private readonly prices: Prices) {}

  add(runtimeId: string, usage: StepUsage): void {
    const sum = this.byRuntime.get(runtimeId);
    if (!sum) {
      this.byRuntime.set(runtimeId, {
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
        totalTokens: usage.totalTokens,
        ...(usage.cachedInputTokens === undefined ? {} : { cachedInputTokens: usage.cachedInputTokens }),
        ...(usage.reasoningTokens === undefined ? {} : { reasoningTokens: usage.reasoningTokens }),
      });
      return;
    }
    sum.inputTokens += usage.inputTokens;
    sum.outputTokens += usage.outputTokens;
    sum.totalTokens += usage.totalTokens;
    if (usage.cachedInputTokens !== undefined) {
      sum.cachedInputTokens = (sum.cachedInputTokens ?? 0) + usage.cachedInputTokens;
    }
    if (usage.reasoningTokens !== undefined) {
      sum.reasoningTokens = (sum.reasoningTokens ?? 0) + usage.reasoningTokens;
    }
  }

  /** The usage stored on items: each step's usage sits on its first item, beside its runtime. */
  addItems(items: readonly Item[]): void {
    for (const item of items) {
      if ('usage' in item && item.usage && item.runtimeId) this.add(item.runtimeId, item.usage);
    }
  }

  /** Undefined when none of the runtimes used has a price. */
  cost(): Cost | undefined {
    const total = this.total();
    return Object.keys(total.byRuntime).length > 0 ? total : undefined;
  }

  total(): Cost {
    const byRuntime: Record<string, RuntimeCost> = {};
    const unpriced: string[] = [];
    let usd = 0;
    for (const [runtimeId, usage] of this.byRuntime) {
      const price = priceOf(this.prices, runtimeId);
      if (!price) {
        unpriced.push(runtimeId);
        continue;
      }
      const runtimeUsd = usdOf(price, usage);
      usd += runtimeUsd;
      const entry: RuntimeCost = {
        usd: runtimeUsd,
        inputTokens: usage.inputTokens,
        outputTokens: usage.outputTokens,
      };
      if (usage.cachedInputTokens !== undefined) entry.cachedInputTokens = usage.cachedInputTokens;
      if (usage.reasoningTokens !== undefined) entry.reasoningTokens = usage.reasoningTokens;
      byRuntime[runtimeId] = entry;
    }
    return unpriced.length > 0 ? { usd, byRuntime, unpriced } : { usd, byRuntime };
  }
}
