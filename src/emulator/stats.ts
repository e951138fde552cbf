import { EMULATOR_ROUTES, type EmulatorRoute } from './faults.js';

export interface EmulatorRouteStats {
  requests: number;
  bytesIn: number;
}

export interface EmulatorStats {
  routes: Record<EmulatorRoute, EmulatorRouteStats>;
}

export interface EmulatorRequestRecord {
  route: EmulatorRoute;
  /** The parsed JSON request body; null when the body was empty, not JSON or over the size limit. */
  body: unknown;
  bytesIn: number;
}

/** How many recent requests `requests()` keeps, and how many body bytes at most; older ones are forgotten. */
const REQUEST_LOG_SIZE = 200;
const REQUEST_LOG_BYTES = 64 * 1024 * 1024;

export class StatsRecorder {
  #routes = freshRoutes();
  #log: EmulatorRequestRecord[] = [];
  #logBytes = 0;

  record(route: EmulatorRoute, bytesIn: number, body: unknown): void {
    const stats = this.#routes[route];
    stats.requests += 1;
    stats.bytesIn += bytesIn;
    this.#log.push({ route, body, bytesIn });
    this.#logBytes += bytesIn;
    while (
      this.#log.length > 1 &&
      (this.#log.length > REQUEST_LOG_SIZE || this.#logBytes > REQUEST_LOG_BYTES)
    ) {
      this.#logBytes -= this.#log.shift()!.bytesIn;
    }
  }

  stats(): EmulatorStats {
    const routes = freshRoutes();
    for (const route of EMULATOR_ROUTES) routes[route] = { ...this.#routes[route] };
    return { routes };
  }

  /** The last `limit` requests (all kept ones by default), oldest first. */
  requests(limit?: number): EmulatorRequestRecord[] {
    const count = limit === undefined ? this.#log.length : Math.max(0, Math.floor(limit));
    return count === 0 ? [] : this.#log.slice(-count).map((record) => structuredClone(record));
  }
}

function freshRoutes(): Record<EmulatorRoute, EmulatorRouteStats> {
  return Object.fromEntries(EMULATOR_ROUTES.map((route) => [route, { requests: 0, bytesIn: 0 }])) as Record<
    EmulatorRoute,
    EmulatorRouteStats
  >;
}
