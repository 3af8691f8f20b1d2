import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { ConnectionLane } from '../src/cold/ConnectionLane.js';

describe('ConnectionLane', () => {
  it('runs one operation at a time in call order; a failed one does not stop the next; a failed connect is tried again', async () => {
    const instance = await DuckDBInstance.create(':memory:');
    let connects = 0;
    const lane = new ConnectionLane(async () => {
      if (++connects === 1) throw new Error('first connect fails');
      return instance.connect();
    });
    await expect(lane.run(async () => 1)).rejects.toThrow('first connect fails');
    const order: string[] = [];
    let running = 0;
    const step = (name: string, fail = false) =>
      lane.run(async (con) => {
        running++;
        expect(running).toBe(1);
        const r = await con.runAndReadAll(`SELECT '${name}'`);
        order.push(String(r.getRowsJS()[0]![0]));
        running--;
        if (fail) throw new Error(`${name} failed`);
        return name;
      });
    const results = await Promise.allSettled([step('a'), step('b', true), step('c')]);
    expect(order).toEqual(['a', 'b', 'c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(connects).toBe(2);
    await lane.close();
    await expect(lane.run(async () => 1)).rejects.toThrow(/after close/);
    instance.closeSync();
  });
});
