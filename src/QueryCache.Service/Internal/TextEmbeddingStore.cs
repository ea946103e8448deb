using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace QueryCache.Internal;

/// <summary>
/// The embedding cache's table: a batch of texts read in one round trip, a batch of new vectors written in another.
/// Both fail open: a read that fails is a miss for the whole batch, a write that fails is dropped.
/// </summary>
internal sealed class TextEmbeddingStore(CacheDataSource database, FailOpenExecutor executor) : IEmbeddingCache
{
    /// <summary>pgvector's largest <c>vector</c>.</summary>
    private const int MaxDimensions = 16_000;

    public async Task<IReadOnlyList<ReadOnlyMemory<float>?>> GetAsync(string model, IReadOnlyList<string> texts, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(texts);
        var hashes = Hashes(texts);
        var found = await executor.ExecuteAsync<IReadOnlyDictionary<HashKey, ReadOnlyMemory<float>>>(CacheOperation.Lookup, model, async ct =>
        {
            var command = Command(CacheStatements.GetTextEmbeddings, model, hashes.Distinct());
            await using (command.ConfigureAwait(false))
            {
                var reader = await command.ExecuteReaderAsync(ct).ConfigureAwait(false);
                await using (reader.ConfigureAwait(false))
                {
                    var rows = new Dictionary<HashKey, ReadOnlyMemory<float>>(hashes.Length);
                    while (await reader.ReadAsync(ct).ConfigureAwait(false))
                    {
                        rows[new HashKey(reader.GetFieldValue<byte[]>(0))] = reader.GetFieldValue<Vector>(1).Memory;
                    }

                    return rows;
                }
            }
        }, new Dictionary<HashKey, ReadOnlyMemory<float>>(), cancellationToken).ConfigureAwait(false);
        return [.. hashes.Select(h => found.TryGetValue(h, out var vector) ? vector : (ReadOnlyMemory<float>?)null)];
    }

    public async Task<string?> SetAsync(string model, IReadOnlyList<string> texts, IReadOnlyList<ReadOnlyMemory<float>> vectors, TimeSpan timeToLive,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(model);
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfNotEqual(vectors.Count, texts.Count, nameof(vectors));
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeToLive, TimeSpan.Zero);
        if (vectors.Select(Problem).FirstOrDefault(p => p is not null) is { } problem)
        {
            return problem;
        }

        // One row per distinct text: texts that differ only in white space share a row.
        var rows = Hashes(texts).Zip(vectors).DistinctBy(row => row.First).ToList();
        await executor.ExecuteAsync(CacheOperation.Store, model, async ct =>
        {
            var command = Command(CacheStatements.PutTextEmbeddings, model, rows.Select(r => r.First));
            await using (command.ConfigureAwait(false))
            {
                command.Parameters.Add(new NpgsqlParameter<Vector[]>("embeddings", rows.Select(r => new Vector(r.Second)).ToArray()));
                command.Parameters.Add(new NpgsqlParameter<TimeSpan>("ttl", timeToLive));
                command.Parameters.Add(new NpgsqlParameter("SynchronousCommit", NpgsqlDbType.Text) { Value = (object?)database.SynchronousCommit ?? DBNull.Value });
                return await command.ExecuteNonQueryAsync(ct).ConfigureAwait(false);
            }
        }, 0, cancellationToken).ConfigureAwait(false);
        return null;
    }

    /// <summary>Why pgvector could not keep <paramref name="vector"/>, or null: a broken response must not be served for a month.</summary>
    private static string? Problem(ReadOnlyMemory<float> vector) => vector.Length is 0 or > MaxDimensions
        ? $"a vector of {vector.Length} dimensions (pgvector stores 1 to {MaxDimensions})"
        : Check.VectorProblem(vector.Span);

    private static HashKey[] Hashes(IReadOnlyList<string> texts) =>
        [.. texts.Select(t => new HashKey(QueryText.EmbeddingHash(t ?? throw new ArgumentException("A text is null.", nameof(texts)))))];

    /// <summary>A statement over a model's rows for a batch of text hashes.</summary>
    private NpgsqlCommand Command(string sql, string model, IEnumerable<HashKey> hashes)
    {
        var command = database.Primary.CreateCommand(sql);
        command.Parameters.Add(new NpgsqlParameter<string>("model", model));
        command.Parameters.Add(new NpgsqlParameter<byte[][]>("hashes", hashes.Select(h => h.Bytes).ToArray()));
        return command;
    }

    /// <summary>A SHA-256 of a normalized text, compared by value.</summary>
    private readonly struct HashKey(byte[] bytes) : IEquatable<HashKey>
    {
        public byte[] Bytes { get; } = bytes;

        public bool Equals(HashKey other) => Bytes.AsSpan().SequenceEqual(other.Bytes);

        public override bool Equals(object? obj) => obj is HashKey other && Equals(other);

        public override int GetHashCode() => BitConverter.ToInt32(Bytes, 0);
    }
}
