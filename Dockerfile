# syntax=docker/dockerfile:1
# The controller image: `kubestead run` on Node 24 LTS, production dependencies only, no shell.
# test/deploy/production-install.test.ts repeats what this file does (without Docker) and runs it.

# 1. Build dist/ with the dev dependencies (TypeScript, and rolldown for dist/bundle/, which
#    bin/kubestead runs). --ignore-scripts: `prepare` would build before the sources are copied.
#    The sandbox package (packages/sandbox) is built too, for the types src/ needs of it; it never
#    reaches the image.
FROM node:24-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
COPY packages/sandbox/package.json ./packages/sandbox/
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY packages ./packages
COPY src ./src
RUN npm run build

# 2. Production dependencies only: without packages/, and the sandbox package is a development
#    dependency, so neither it nor its libraries (@bufbuild/cel, selfsigned) are installed.
FROM node:24-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

# 3. Runtime: distroless Node 24 (no shell, no package manager), user 65532 (nonroot).
FROM gcr.io/distroless/nodejs24-debian12:nonroot
WORKDIR /app
ENV NODE_ENV=production
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY rules ./rules
COPY crds ./crds
# The controller holds every policy's state for as long as it runs and decides about a hundred
# times a second at 1,000 policies: memory before throughput (docs/operator.md, "Scale"). One malloc
# arena: the pod's CPU limit is one core, and per-thread arenas only kept freed memory (measured
# 16 MiB of RSS at 1,000 policies against two arenas, CPU the same).
ENV MALLOC_ARENA_MAX=1
USER 65532:65532
EXPOSE 8080 8081
# V8's heap, sized for short pauses in a small process, instead of bin/kubestead's 32 MiB semi-space
# (which speeds up bulk `test` and `eval`): a 2 MiB semi-space, an old generation allowed to grow 30 %
# past what is live before the next full collection, and no memory-reducing collections. Measured at
# 1,000 policies on Node 24: full collections of 5-10 instead of 15-40 ms (--optimize-for-size made
# every one a memory-reducing, compacting one), RSS 183-185 MiB. --no-maglev: with V8's mid-tier
# compiler on, malloc's arena held 55 instead of 32 MiB (RSS 206 -> 180 MiB; CPU a tick within the noise).
# Figures and what was tried: docs/operator.md, "Scale". node is called directly: distroless has
# no /usr/bin/env for the shebang.
ENTRYPOINT ["/nodejs/bin/node", "--max-semi-space-size=2", "--heap-growing-percent=30", "--no-memory-reducer", "--no-maglev", "/app/bin/kubestead", "run"]
