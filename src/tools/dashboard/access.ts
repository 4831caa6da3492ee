/**
 * Who may see what. Locally the dashboard uses the user's own kubeconfig: the cluster already
 * decides, and every request sees what the source reads. In the cluster (`kubestead run
 * --dashboard-addr`) each request brings a bearer token (tokenAccess, access-token.ts).
 */
export interface Access {
  /**
   * The namespaces of `namespaces` the request may see; null when it is not authenticated (a 401).
   * `authorization` is the request's Authorization header.
   */
  visible(authorization: string | undefined, namespaces: string[]): Promise<Set<string> | null>;
}

/** Local: the kubeconfig's user sees what the cluster lets it read. */
export const kubeconfigAccess: Access = {
  visible: (_authorization, namespaces) => Promise.resolve(new Set(namespaces)),
};
