export type { ConformanceOptions } from './conformance.js';
export { runStoreConformance } from './conformance.js';
export type { Script, ScriptedRuntime, ScriptedRuntimeOptions, ScriptedStep } from './scripted-runtime.js';
export { scriptedRuntime } from './scripted-runtime.js';
