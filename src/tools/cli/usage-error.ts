/** Bad arguments: one line naming what is wrong, exit 2 (the help is one `kubestead help CMD` away). */
export class UsageError extends Error {}

/** A command this installation cannot run: one line saying how to get it, exit 2. */
export class CommandUnavailable extends Error {}
