using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace QueryCache.Internal;

/// <summary>
/// The embedding cache's table: a batch of text hashes read in one round trip, a batch of new vectors written in
/// another. Both fail open: a read that fails is a miss for the whole batch, a write that fails is dropped.
/// </summary>
internal sealed class TextEmbeddingStore(CacheDataSource database, FailOpenExecutor executor)
{
    private static readonly IReadOnlyDictionary<HashKey, ReadOnlyMemory<float>> None = new Dictionary<HashKey, ReadOnlyMemory<float>>();

    public Task<IReadOnlyDictionary<HashKey, ReadOnlyMemory<float>>> GetAsync(string model, IReadOnlyCollection<HashKey> hashes,
        CancellationToken cancellationToken) =>
        executor.ExecuteAsync<IReadOnlyDictionary<HashKey, ReadOnlyMemory<float>>>(CacheOperation.Lookup, model, async ct =>
        {
            var command = Command(CacheStatements.GetTextEmbeddings, model, hashes);
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    var found = new Dictionary<HashKey, ReadOnlyMemory<float>>(hashes.Count);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        found[new HashKey(reader.GetFieldValue<byte[]>(0))] = reader.GetFieldValue<Vector>(1).Memory;
                    }

                    return found;
                }
            }
        }, None, cancellationToken);

    public Task PutAsync(string model, IReadOnlyList<HashKey> hashes, IReadOnlyList<ReadOnlyMemory<float>> vectors, TimeSpan timeToLive,
        CancellationToken cancellationToken) =>
        executor.ExecuteAsync(CacheOperation.Store, model, async ct =>
        {
            var command = Command(CacheStatements.PutTextEmbeddings, model, hashes);
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<Vector[]>("embeddings", vectors.Select(v => new Vector(v)).ToArray()));
                command.Parameters.Add(new NpgsqlParameter<TimeSpan>("ttl", timeToLive));
                command.Parameters.Add(new NpgsqlParameter("SynchronousCommit", NpgsqlDbType.Text) { Value = (object?)database.SynchronousCommit ?? DBNull.Value });
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }, 0, cancellationToken);

    /// <summary>A statement over a model's rows for a batch of text hashes.</summary>
    private NpgsqlCommand Command(string sql, string model, IEnumerable<HashKey> hashes)
    {
        var command = database.Primary.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string>("model", model));
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("hashes", hashes.Select(h => h.Bytes).ToArray()));
        return command;
    }
}

/// <summary>A SHA-256 of a normalized text, compared by value.</summary>
internal readonly struct HashKey(byte[] bytes) : IEquatable<HashKey>
{
    public byte[] Bytes { get; } = bytes;

    public bool Equals(HashKey other) => Bytes.AsSpan().SequenceEqual(other.Bytes);

    public override bool Equals(object? obj) => obj is HashKey other && Equals(other);

    public override int GetHashCode() => BitConverter.ToInt32(Bytes, 0);
}
