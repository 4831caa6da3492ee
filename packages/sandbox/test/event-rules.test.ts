import { CoreV1Api, EventsV1Api, V1MicroTime } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sandbox } from '../src/index.js';
import { causeFields, failureOf, testSandbox } from '../../../test/support/sandbox.js';

/** Events as a real API server validates and selects them (the rest of strictness.test.ts's refusals). */

let sandbox: Sandbox;
let core: CoreV1Api;
const NS = 'strict';

beforeAll(async () => {
  sandbox = await testSandbox({ workloads: false });
  core = sandbox.client(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: NS } } });
  await core.createNamespace({ body: { metadata: { name: 'elsewhere' } } });
});
afterAll(async () => sandbox.close());

describe('Event validation', () => {
  const about = { apiVersion: 'v1', kind: 'ConfigMap', name: 'original', namespace: NS };

  it('events.k8s.io/v1 without eventTime, reportingController, reportingInstance or action: 422 naming each', async () => {
    const events = sandbox.client(EventsV1Api);
    const failed = await failureOf(
      events.createNamespacedEvent({
        namespace: NS,
        body: { metadata: { name: 'e1' }, regarding: about, reason: 'Adopted', type: 'Normal', note: 'hello' } as never,
      }),
    );
    expect(failed.code).toBe(422);
    expect(causeFields(failed.body)).toEqual([
      'action FieldValueRequired',
      'eventTime FieldValueRequired',
      'reportingController FieldValueRequired',
      'reportingInstance FieldValueRequired',
    ]);
    expect(failed.body.message).toMatch(/^Event\.events\.k8s\.io "e1" is invalid: \[/);
    const long = await failureOf(
      events.createNamespacedEvent({
        namespace: NS,
        body: {
          metadata: { name: 'e2' },
          regarding: about,
          reason: 'Adopted',
          type: 'Normal',
          note: 'n'.repeat(1025),
          eventTime: new V1MicroTime(),
          action: 'Adopt',
          reportingController: 'kubestead.io/controller',
          reportingInstance: 'pod-1',
        },
      }),
    );
    expect(long.code).toBe(422);
    expect(long.body.message).toBe('Event.events.k8s.io "e2" is invalid: note: Too long: must have at most 1024 bytes');
    const good = await events.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'e3' },
        regarding: about,
        reason: 'Adopted',
        type: 'Normal',
        note: 'ok',
        eventTime: new V1MicroTime(),
        action: 'Adopt',
        reportingController: 'kubestead.io/controller',
        reportingInstance: 'pod-1',
      },
    });
    expect(good.reportingController).toBe('kubestead.io/controller');
  });

  it('a core Event whose involvedObject is in another namespace: 422', async () => {
    const failed = await failureOf(
      core.createNamespacedEvent({
        namespace: NS,
        body: {
          metadata: { name: 'e4' },
          involvedObject: { ...about, namespace: 'elsewhere' },
          reason: 'Adopted',
          message: 'x',
          type: 'Normal',
        },
      }),
    );
    expect(failed.code).toBe(422);
    expect(failed.body.message).toBe(
      'Event "e4" is invalid: involvedObject.namespace: Invalid value: "elsewhere": does not match event.namespace',
    );
  });
});

describe('Event field selectors', () => {
  it('answers involvedObject.apiVersion, source and reportingComponent on core/v1, regarding.* and reportingController on events.k8s.io/v1', async () => {
    const events = sandbox.client(EventsV1Api);
    const regarding = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'checkout', namespace: NS };
    await events.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'sel1' },
        regarding,
        reason: 'Advanced',
        type: 'Normal',
        note: 'x',
        eventTime: new V1MicroTime(),
        action: 'Advance',
        reportingController: 'kubestead.io/controller',
        reportingInstance: 'kubestead-0',
      },
    });
    await core.createNamespacedEvent({
      namespace: NS,
      body: {
        metadata: { name: 'sel2' },
        involvedObject: { ...regarding, name: 'other' },
        reason: 'BackOff',
        type: 'Warning',
        message: 'y',
        source: { component: 'kubelet' },
      },
    });
    const names = (list: { items: Array<{ metadata?: { name?: string } }> }): string[] =>
      list.items
        .map((e) => e.metadata?.name ?? '')
        .filter((n) => n.startsWith('sel'))
        .sort();
    expect(
      names(await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'involvedObject.apiVersion=apps/v1' })),
    ).toEqual(['sel1', 'sel2']);
    expect(names(await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'source=kubelet' }))).toEqual(['sel2']);
    expect(
      names(
        await core.listNamespacedEvent({ namespace: NS, fieldSelector: 'reportingComponent=kubestead.io/controller' }),
      ),
    ).toEqual(['sel1']);
    expect(
      names(
        await events.listNamespacedEvent({
          namespace: NS,
          fieldSelector: 'reportingController=kubestead.io/controller,regarding.apiVersion=apps/v1',
        }),
      ),
    ).toEqual(['sel1']);
    const unsupported = await failureOf(events.listNamespacedEvent({ namespace: NS, fieldSelector: 'source=kubelet' }));
    expect([unsupported.code, unsupported.body.message]).toEqual([400, 'field label not supported: source']);
  });
});
