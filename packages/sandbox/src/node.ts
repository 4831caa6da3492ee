import type { Api } from './api.js';
import { SERVER_VERSION } from './discovery.js';
import type { KObject } from './types.js';

/** The sandbox's one node: every pod runs on it (spec.nodeName, status.hostIP). */
export const NODE_NAME = 'sandbox-node';
export const HOST_IP = '10.0.0.10';

const CAPACITY = { cpu: '8', memory: '32Gi', 'ephemeral-storage': '100Gi', pods: '110' };

/** A kubelet condition, as of `now`: [type, status, reason, message]. */
function condition([type, status, reason, message]: [string, string, string, string], now: string): KObject[string] {
  return { type, status, lastHeartbeatTime: now, lastTransitionTime: now, reason, message };
}

/** The Node as a kubelet registers it (a single-node cluster: its node is also the control plane's). */
export function sandboxNode(now: string): KObject {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: NODE_NAME,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': NODE_NAME,
        'kubernetes.io/os': 'linux',
        'node-role.kubernetes.io/control-plane': '',
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0' },
    },
    spec: { podCIDR: '10.244.0.0/16', podCIDRs: ['10.244.0.0/16'] },
    status: {
      capacity: CAPACITY,
      allocatable: CAPACITY,
      conditions: [
        condition(
          ['MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
          now,
        ),
        condition(['DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'], now),
        condition(['PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'], now),
        condition(['Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'], now),
      ],
      addresses: [
        { type: 'InternalIP', address: HOST_IP },
        { type: 'Hostname', address: NODE_NAME },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: 'kubestead-sandbox',
        systemUUID: 'kubestead-sandbox',
        bootID: 'kubestead-sandbox',
        kernelVersion: '6.1.0-sandbox',
        osImage: 'Kubestead sandbox (simulated node)',
        containerRuntimeVersion: 'sandbox://simulated',
        kubeletVersion: SERVER_VERSION.gitVersion,
        kubeProxyVersion: SERVER_VERSION.gitVersion,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

/** Registers the node (a fresh cluster, or a loaded state that lacks it). */
export function ensureNode(api: Api): void {
  const nodes = api.registry.get('', 'nodes');
  if (nodes && !api.find(nodes, undefined, NODE_NAME)) api.createAsSystem(nodes, sandboxNode(api.now()));
}
