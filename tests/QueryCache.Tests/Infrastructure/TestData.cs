using Dapper;
using Npgsql;
using NpgsqlTypes;
using Pgvector;

namespace QueryCache.Tests.Infrastructure;

public static class TestData
{
    /// <summary>
    /// Bulk-loads entries with binary COPY, the way a large seed should be loaded: with <paramref name="rebuildIndex"/>,
    /// the HNSW index is dropped first and built once afterwards, which is much faster than maintaining it row by row.
    /// </summary>
    public static async Task InsertEntriesAsync(string connectionString, IEnumerable<SeedEntry> entries, bool rebuildIndex = false)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        builder.UseVector();
        await using var dataSource = builder.Build();
        await using var connection = await dataSource.OpenConnectionAsync();
        var indexDefinition = rebuildIndex
            ? await connection.ExecuteScalarAsync<string>("SELECT pg_get_indexdef('askwealth.ix_query_cache_embeddings_embedding_hnsw'::regclass)")
            : null;
        // One transaction: a load that fails leaves the shared database with its index, not without it.
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            if (indexDefinition is not null)
            {
                await connection.ExecuteAsync("DROP INDEX askwealth.ix_query_cache_embeddings_embedding_hnsw", transaction: transaction);
            }

            await Seeding.CopyEntriesAsync(connection, entries);

            if (indexDefinition is not null)
            {
                // ef_construction 200 makes a 20k-entry build take tens of seconds on a busy 2-core machine: no command timeout.
                await connection.ExecuteAsync(indexDefinition, transaction: transaction, commandTimeout: 0);
            }

            await transaction.CommitAsync();
        }

        await connection.ExecuteAsync("ANALYZE askwealth.query_cache_embeddings");
    }

    /// <summary>A catalog fingerprint of everything in schema askwealth: tables, columns, indexes, constraints, functions, views.</summary>
    public static async Task<string> SchemaSnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var lines = await connection.QueryAsync<string>("""
            SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' ' || coalesce(array_to_string(c.reloptions, ','), '')
            FROM pg_class c WHERE c.relnamespace = 'askwealth'::regnamespace
            UNION ALL
            SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull
                   || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')
            FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
            LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE c.relnamespace = 'askwealth'::regnamespace AND a.attnum > 0 AND NOT a.attisdropped
            UNION ALL
            SELECT 'index ' || indexdef FROM pg_indexes WHERE schemaname = 'askwealth'
            UNION ALL
            SELECT 'constraint ' || conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint WHERE connamespace = 'askwealth'::regnamespace
            UNION ALL
            SELECT 'function ' || regexp_replace(pg_get_functiondef(p.oid), '\s+', ' ', 'g') FROM pg_proc p WHERE p.pronamespace = 'askwealth'::regnamespace
            UNION ALL
            SELECT 'view ' || viewname || ' ' || definition FROM pg_views WHERE schemaname = 'askwealth'
            UNION ALL
            SELECT 'comment ' || c.relname || ' ' || obj_description(c.oid, 'pg_class')
            FROM pg_class c WHERE c.relnamespace = 'askwealth'::regnamespace AND obj_description(c.oid, 'pg_class') IS NOT NULL
            UNION ALL
            SELECT 'migration ' || "MigrationId" FROM askwealth."__query_cache_migrations"
            ORDER BY 1
            """);
        return string.Join('\n', lines);
    }

    /// <summary>Runs a lookup through the SQL function and returns the plans of the statements it ran (auto_explain).</summary>
    public static async Task<(T? Result, List<string> Plans)> ExplainLookupAsync<T>(string connectionString, string sql, object parameters)
    {
        await using var dataSource = QueryCache.Internal.CacheDataSource.Build(connectionString);
        await using var connection = await dataSource.OpenConnectionAsync();
        var plans = new List<string>();
        connection.Notice += (_, e) => plans.Add(e.Notice.MessageText);
        await connection.ExecuteAsync("""
            LOAD 'auto_explain';
            SET auto_explain.log_min_duration = 0;
            SET auto_explain.log_nested_statements = on;
            SET auto_explain.log_level = 'notice';
            SET client_min_messages = 'notice';
            """);
        var result = await connection.QuerySingleOrDefaultAsync<T>(sql, parameters);
        return (result, plans);
    }

    public static async Task<long> ScalarAsync(string connectionString, string sql, object? parameters = null)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        return await connection.ExecuteScalarAsync<long>(sql, parameters);
    }
}
