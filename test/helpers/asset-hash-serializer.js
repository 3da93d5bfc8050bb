/**
 * Jest snapshot serializer: masks 64-hex asset hashes (they change with every Lambda source edit and
 * with the bundler), so snapshots show only meaningful template changes.
 */
const HASH = /[0-9a-f]{64}/g;

module.exports = {
  test: (value) => typeof value === 'string' && HASH.test(value),
  serialize: (value, config, indentation, depth, refs, printer) =>
    printer(value.replace(HASH, '[ASSET-HASH]'), config, indentation, depth, refs),
};
