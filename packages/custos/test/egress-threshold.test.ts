import { describe } from 'vitest';
import { thresholdCase } from './egress/egress-threshold.js';
import { freshSchema, testPool, withPostgres } from './pg-helpers.js';

describe('egress volume threshold: sqlite custody', () => {
  thresholdCase('sqlite', () => ({ cleanup: async () => {} }));
});

withPostgres('egress volume threshold: postgres custody', (url) => {
  describe('egress volume threshold: postgres custody', () => {
    thresholdCase('postgres', () => {
      const schema = freshSchema('egress');
      return {
        config: { driver: 'postgres', urlEnv: 'CUSTOS_PG_URL', schema, poolSize: 3 },
        cleanup: async () => {
          const { dropAndEnd } = testPool(url);
          await dropAndEnd(schema);
        },
      };
    });
  });
});
