import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { CloudWatchClient, PutMetricDataCommand, type Dimension, type MetricDatum } from '@aws-sdk/client-cloudwatch';

/**
 * A local AWS API stand-in for the CloudWatch provider: moto's server (`python3 -m moto.server`), on a port the OS
 * chooses, with IAM enforced: the harness makes one IAM user with an access key allowed GetMetricData and
 * PutMetricData, then turns authentication on, so a wrong key or signature is refused as AWS refuses it.
 */

export const IN_CI = process.env.CI === 'true';
export const REGION = 'us-east-1';

/** The Pythons that may have moto: $MOTO_PYTHON, the one on PATH (pyenv's here), then Debian's. */
const CANDIDATES = [process.env.MOTO_PYTHON, 'python3', '/usr/bin/python3'].filter((p): p is string => !!p);

/** The first Python that imports moto's server and boto3, or null. */
export function motoPython(): string | null {
  for (const python of CANDIDATES) {
    const probe = spawnSync(python, ['-c', 'import moto.server, boto3'], { stdio: 'ignore', timeout: 60_000 });
    if (probe.status === 0) return python;
  }
  return null;
}

/** Whether the moto tests run: moto is importable, or we are in CI (where its absence fails the run, not skips it). */
export function motoTestsEnabled(): boolean {
  if (motoPython() !== null || IN_CI) return true;
  console.warn(
    `\n!!!!!!!!\n!!! moto is not importable by ${CANDIDATES.join(', ')}: the CloudWatch tests are SKIPPED.\n` +
      '!!! Install moto 5.2 with boto3 for one of them, or set MOTO_PYTHON (CI fails without it).\n!!!!!!!!\n',
  );
  return false;
}

export interface Moto {
  url: string;
  /** An access key of an IAM user allowed cloudwatch:GetMetricData and PutMetricData. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  /** PutMetricData through the SDK, as the user. */
  put(namespace: string, name: string, points: { value: number; at: Date }[], dimensions?: Dimension[]): Promise<void>;
  stop(): Promise<void>;
}

const RUNNING = /Running on http:\/\/127\.0\.0\.1:(\d+)/;

/** The port moto's server bound (it logs it once it listens), or why it has none. */
function listeningPort(child: ChildProcess, log: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onData = (): void => {
      const port = RUNNING.exec(log())?.[1];
      if (port) done(() => resolve(Number(port)));
    };
    const onExit = (): void => done(() => reject(new Error(`moto exited before listening:\n${log()}`)));
    const done = (settle: () => void): void => {
      child.stderr?.off('data', onData);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      settle();
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.once('exit', onExit);
  });
}

const SETUP = `
import boto3, json, sys
iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='${REGION}', aws_access_key_id='setup', aws_secret_access_key='setup')
iam.create_user(UserName='kubestead')
policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Resource": "*",
  "Action": ["cloudwatch:GetMetricData", "cloudwatch:PutMetricData", "monitoring:GetMetricData", "monitoring:PutMetricData"]}]}
iam.put_user_policy(UserName='kubestead', PolicyName='metrics', PolicyDocument=json.dumps(policy))
key = iam.create_access_key(UserName='kubestead')['AccessKey']
print(json.dumps({"accessKeyId": key['AccessKeyId'], "secretAccessKey": key['SecretAccessKey']}))
`;

/** The IAM user and its key (boto3, before authentication is on), then authentication on for every later request. */
async function setUp(python: string, url: string): Promise<Moto['credentials']> {
  const made = spawnSync(python, ['-c', SETUP, url], { encoding: 'utf8', timeout: 60_000 });
  if (made.status !== 0) throw new Error(`moto IAM setup failed:\n${made.stderr}`);
  const credentials = JSON.parse(made.stdout) as Moto['credentials'];
  const res = await fetch(`${url}/moto-api/reset-auth`, {
    method: 'POST',
    headers: { 'content-type': 'text/plain' },
    body: '0',
  });
  if (!res.ok) throw new Error(`moto reset-auth answered HTTP ${res.status}`);
  return credentials;
}

export async function startMoto(): Promise<Moto> {
  const python = motoPython();
  if (!python) throw new Error(`moto is not importable by ${CANDIDATES.join(', ')}; .ci/run says how to install it`);
  // Port 0: the server binds a free port itself and logs it (no port chosen here and released for a race).
  const child = spawn(python, ['-m', 'moto.server', '-H', '127.0.0.1', '-p', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer): void => void (log += chunk.toString());
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await exited;
  };
  try {
    const url = `http://127.0.0.1:${await listeningPort(child, () => log)}`;
    const credentials = await setUp(python, url);
    const client = new CloudWatchClient({ region: REGION, endpoint: url, credentials, maxAttempts: 1 });
    const put: Moto['put'] = async (namespace, name, points, dimensions = []) => {
      const data: MetricDatum[] = points.map((p) => ({
        MetricName: name,
        Dimensions: dimensions,
        Value: p.value,
        Timestamp: p.at,
      }));
      await client.send(new PutMetricDataCommand({ Namespace: namespace, MetricData: data }));
    };
    return { url, credentials, put, stop: async () => (client.destroy(), stop()) };
  } catch (error) {
    await stop();
    throw error;
  }
}
