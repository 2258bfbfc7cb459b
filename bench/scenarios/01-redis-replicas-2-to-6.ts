// 1. The story: more replicas while sessions are read from replicas (the demo's scenario).
import { storyScenario, type Scenario } from '../../packages/cli/dist/index.js';

export const scenario: Scenario = storyScenario;
