# workerd config of test/beyond-node/workerd.test.ts: the bundled worker (worker.bundle.mjs, next to
# this file) behind one HTTP socket on a free port of 127.0.0.1, which workerd reports on
# --control-fd. Outbound requests may reach private addresses only (the emulator listens on
# 127.0.0.1). No nodejs_compat flag: no `process`, `Buffer` or `node:` modules.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "private-network", network = (allow = ["private"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.bundle.mjs", esModule = embed "worker.bundle.mjs")],
  compatibilityDate = "2025-09-01",
  globalOutbound = "private-network",
);
