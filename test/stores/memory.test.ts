import { describe, expect, it } from 'vitest';
import { memoryStore } from '../../src/stores/memory.js';
import { runStoreConformance } from '../../src/testing/index.js';

runStoreConformance(() => memoryStore(), { describe, it, expect }, { name: 'memoryStore' });
