FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
ARG WARDEN_COMMIT=unknown
ENV WARDEN_COMMIT=${WARDEN_COMMIT}
USER node
CMD ["node", "bin/warden.js", "start"]
