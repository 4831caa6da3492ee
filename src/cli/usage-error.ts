/** Bad arguments: one line naming what is wrong, exit 2 (the help is one `kubestead help CMD` away). */
export class UsageError extends Error {}
