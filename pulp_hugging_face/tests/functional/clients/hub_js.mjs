// Drives huggingface.js (@huggingface/hub) as its users call it, for the functional tests.
// stdin: {"endpoint": ..., "token": ..., "ops": [{"op": ..., ...}]}; stdout: one JSON result per
// op, in order: {"value": ...} or {"error": message, "status": HTTP status or null}.
import * as hub from "@huggingface/hub";

const input = JSON.parse(await new Promise((resolve) => {
	let text = "";
	process.stdin.on("data", (chunk) => (text += chunk));
	process.stdin.on("end", () => resolve(text));
}));
console.debug = () => {}; // huggingface.js logs each download on stdout
const hubUrl = input.endpoint;
const credentials = input.token ? { accessToken: input.token } : {};
const repoOf = (op) => ({ type: op.type ?? "model", name: op.repo });
const infoOf = { model: hub.modelInfo, dataset: hub.datasetInfo, space: hub.spaceInfo };

const ops = {
	async snapshot(op) {
		return hub.snapshotDownload({ repo: repoOf(op), revision: op.revision, cacheDir: op.cache, hubUrl, ...credentials });
	},
	async download(op) {
		return hub.downloadFileToCacheDir({ repo: repoOf(op), path: op.path, revision: op.revision, cacheDir: op.cache, hubUrl, ...credentials });
	},
	async info(op) {
		const info = await infoOf[op.type ?? "model"]({ name: op.repo, revision: op.revision, additionalFields: ["sha"], hubUrl, ...credentials });
		return { sha: info.sha, name: info.name };
	},
	async exists(op) {
		return hub.fileExists({ repo: repoOf(op), path: op.path, revision: op.revision, hubUrl, ...credentials });
	},
	async head(op) {
		const info = await hub.fileDownloadInfo({ repo: repoOf(op), path: op.path, revision: op.revision, raw: op.raw, hubUrl, ...credentials });
		return info && { etag: info.etag.replaceAll('"', ""), size: info.size, xet: Boolean(info.xet) };
	},
	async read(op) {
		const blob = await hub.downloadFile({ repo: repoOf(op), path: op.path, revision: op.revision, raw: op.raw, hubUrl, ...credentials });
		if (!blob) return null;
		const part = op.start === undefined ? blob : blob.slice(op.start, op.end);
		return Buffer.from(await part.arrayBuffer()).toString("base64");
	},
	async paths(op) {
		const found = await hub.pathsInfo({ repo: repoOf(op), paths: op.paths, revision: op.revision, expand: op.expand, hubUrl, ...credentials });
		return found.map((e) => ({ path: e.path, size: e.size, lfs: e.lfs?.oid ?? null, lastCommit: e.lastCommit?.id ?? null }));
	},
	async repoExists(op) {
		return hub.repoExists({ repo: repoOf(op), hubUrl, ...credentials });
	},
	async safetensors(op) {
		const parsed = await hub.parseSafetensorsMetadata({ repo: repoOf(op), revision: op.revision, hubUrl, ...credentials });
		return { sharded: parsed.sharded, header: parsed.header };
	},
	async tree(op) {
		const paths = [];
		for await (const entry of hub.listFiles({ repo: repoOf(op), revision: op.revision, recursive: op.recursive, path: op.path, hubUrl, ...credentials })) {
			paths.push(entry.path);
		}
		return paths.sort();
	},
};

const results = [];
for (const op of input.ops) {
	try {
		results.push({ value: (await ops[op.op](op)) ?? null });
	} catch (error) {
		results.push({ error: String(error.message ?? error), status: error.statusCode ?? null });
	}
}
process.stdout.write(JSON.stringify(results));
