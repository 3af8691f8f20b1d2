/**
 * The object-storage benchmark's S3 server, in its own process (as a real
 * server would be): npm's s3rver on 127.0.0.1, an ephemeral port, objects in
 * the folder given. Started with fork(); sends { port } once listening, and
 * stops on { stop }.
 */
import S3rver from 's3rver';

const [dir, bucket] = process.argv.slice(2);
if (!dir || !bucket || !process.send) throw new Error('usage: fork bench/s3rverChild.ts <dir> <bucket>');
const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory: dir, configureBuckets: [{ name: bucket }], allowMismatchedSignatures: true, vhostBuckets: false });
const address = await server.run();
process.send({ port: address.port });
process.on('message', (m: { stop?: boolean }) => {
  if (m.stop) void server.close().then(() => process.exit(0));
});
