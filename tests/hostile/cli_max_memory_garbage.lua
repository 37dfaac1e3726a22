-- --max-memory garbage
-- command: run {file} --max-memory lots
-- expect: exit 2
-- expect-error: --max-memory needs a size from 1MiB to 1TiB (e.g. 512MiB, 2G), got 'lots'
expect(1):equals(1)
