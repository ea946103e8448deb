using Dapper;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace QueryCache.Tests.Infrastructure;

public sealed record SeedEntry(string TenantId, string? UserId, float[] Embedding, string QueryText, string Answer = "answer",
    string Model = Seeding.DefaultModel);

/// <summary>Bulk loading of cache entries (binary COPY), shared by the tests and the benchmark.</summary>
public static class Seeding
{
    public const string DefaultModel = "test-embedding-384";

    /// <summary>
    /// Copies <paramref name="entries"/> into the embeddings table as they come (streamed), in the column's own type:
    /// halfvec or vector, as the database was migrated. They are indexed (the HNSW index, if present, takes them at once).
    /// </summary>
    public static async Task CopyEntriesAsync(NpgsqlConnection connection, IEnumerable<SeedEntry> entries)
    {
        var half = await connection.ExecuteScalarAsync<string>("""
            SELECT t.typname FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
            WHERE a.attrelid = 'askwealth.query_cache_embeddings'::regclass AND a.attname = 'embedding'
            """) == "halfvec";
        await using var import = await connection.BeginBinaryImportAsync(
            "COPY askwealth.query_cache_embeddings (tenant_id, user_id, query_text, query_hash, answer, embedding, embedding_model) FROM STDIN (FORMAT BINARY)");
        foreach (var entry in entries)
        {
            await import.StartRowAsync();
            await import.WriteAsync(entry.TenantId, NpgsqlDbType.Text);
            await import.WriteAsync((object?)entry.UserId ?? DBNull.Value, NpgsqlDbType.Text);
            await import.WriteAsync(entry.QueryText, NpgsqlDbType.Text);
            await import.WriteAsync(QueryText.Hash(entry.QueryText), NpgsqlDbType.Bytea);
            await import.WriteAsync(entry.Answer, NpgsqlDbType.Text);
            if (half)
            {
                await import.WriteAsync(new HalfVector(entry.Embedding.Select(x => (Half)x).ToArray()));
            }
            else
            {
                await import.WriteAsync(new Vector(entry.Embedding));
            }

            await import.WriteAsync(entry.Model, NpgsqlDbType.Text);
        }

        await import.CompleteAsync();
    }
}
