// 1. The story: more replicas while sessions are read from replicas (the demo's scenario).
import { storyScenario, type Scenario } from '../../packages/cli/dist/index.js';

// The demo keeps its decoy before the fault; here the split is drawn from the seed like the others.
export const scenario: Scenario = { ...storyScenario, decoysBefore: undefined };
