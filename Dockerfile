# syntax=docker/dockerfile:1
# Multi-stage image on Node 22 LTS: native addons (hnswlib-node, better-sqlite3) are built and the TypeScript is
# compiled to dist/ in the build stage (then development packages are pruned); the runtime stage runs the compiled
# server as a non-root user with the index and the models on volumes.
#   docker build -t kb-qa .
#   docker build -t kb-qa --build-arg EMBEDDING_MODEL=Xenova/multilingual-e5-small .   # bakes a model in (needs the hub)
#   docker run -p 3000:3000 -v kb-data:/data kb-qa

FROM node:22-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
ENV ONNXRUNTIME_NODE_INSTALL=skip
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev --no-audit --no-fund
COPY scripts ./scripts
COPY docs-corpus ./docs-corpus
# Optional: download an embedding model into /models at build time (a connected builder only).
ARG EMBEDDING_MODEL=""
RUN mkdir -p /models && if [ -n "$EMBEDDING_MODEL" ]; then KB_MODELS_DIR=/models node --import tsx scripts/fetch-model.ts "$EMBEDDING_MODEL"; fi

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    KB_DATA_DIR=/data \
    KB_MODELS_DIR=/models
WORKDIR /app
COPY --from=build /app /app
COPY --from=build /models /models
RUN mkdir -p /data && chown -R node:node /data /models
ARG EMBEDDING_MODEL=""
ENV KB_EMBEDDING_MODEL=${EMBEDDING_MODEL:-Xenova/multilingual-e5-small}
USER node
VOLUME ["/data", "/models"]
EXPOSE 3000
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD node -e "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"
# Serves the index in the data volume (an empty one answers "not in the knowledge base" until documents are indexed:
# docker run -v /srv/docs:/docs:ro kb-qa node dist/cli.js start /docs). The demo corpus only on request: `… kb-qa node dist/cli.js demo`.
CMD ["node", "dist/cli.js", "serve"]
