import type { Agent } from 'node:https';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONNECTION_LIMITS, reuseAgents } from '../../src/adapters/kube/requests.js';
import type { Sandbox } from '@kubestead/sandbox';
import { testSandbox } from '../support/sandbox.js';

let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
});
afterAll(async () => sandbox.close());

/** The agent client-node would send a request with, as its fetch options carry it. */
async function agentOf(config: KubeConfig): Promise<Agent> {
  const options = await config.applyToFetchOptions({});
  return options.agent as Agent;
}

const count = (lists: NodeJS.ReadOnlyDict<unknown[]>): number =>
  Object.values(lists).reduce((n, list) => n + (list?.length ?? 0), 0);
const socketsTo = (agent: Agent): number => count(agent.sockets) + count(agent.freeSockets);

describe('connections to the API server (client-node 1.4 makes a new agent for every request)', () => {
  it('without reuseAgents: a new agent, so a new TLS connection, for every request', async () => {
    const config = sandbox.kubeConfig();
    expect(await agentOf(config)).not.toBe(await agentOf(config));
  });

  it('with reuseAgents: one keep-alive agent, one TLS context for all its connections, and sequential requests on one connection', async () => {
    const config = sandbox.kubeConfig();
    reuseAgents(config);
    const agent = await agentOf(config);
    expect(await agentOf(config)).toBe(agent);
    expect((agent as unknown as { keepAlive: boolean }).keepAlive).toBe(true);
    // tls.connect uses it for every connection of the agent, instead of building one from the CA each time
    expect((agent.options as { secureContext?: unknown }).secureContext).toBeDefined();
    const core = config.makeApiClient(CoreV1Api);
    for (let i = 0; i < 20; i++) await core.readNamespace({ name: 'default' });
    expect(socketsTo(agent)).toBe(1);
    await Promise.all(Array.from({ length: 5 }, () => core.readNamespace({ name: 'default' })));
    expect(socketsTo(agent)).toBeLessThanOrEqual(5);
    agent.destroy();
  });

  it('with reuseAgents: a burst of 200 requests queues for at most 64 connections, and at most 16 stay open idle', async () => {
    const config = sandbox.kubeConfig();
    reuseAgents(config);
    const agent = await agentOf(config);
    const core = config.makeApiClient(CoreV1Api);
    let done = false;
    const burst = Promise.all(Array.from({ length: 200 }, () => core.readNamespace({ name: 'default' }))).finally(
      () => {
        done = true;
      },
    );
    let [mostOpen, mostQueued] = [0, 0];
    while (!done) {
      mostOpen = Math.max(mostOpen, count(agent.sockets));
      mostQueued = Math.max(mostQueued, count(agent.requests));
      await new Promise((r) => setImmediate(r));
    }
    await burst;
    expect(mostOpen).toBe(CONNECTION_LIMITS.maxSockets);
    expect(mostQueued).toBeGreaterThan(0);
    expect(count(agent.freeSockets)).toBeLessThanOrEqual(CONNECTION_LIMITS.maxFreeSockets);
    agent.destroy();
  });
});
