using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using QueryCache.Migrations;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.Tests;

/// <summary>Entries that follow their source messages: the opt-in triggers on the app's message table, on a database of their own.</summary>
public sealed class MessageTriggerTests(DatabaseFixture database) : DatabaseTest(database)
{
    private sealed record Source(long Entry, Guid UserMessage, Guid AssistantMessage);

    private static async Task<(string ConnectionString, List<Source> Sources)> BackfilledAsync(DatabaseFixture database, string name)
    {
        var cs = await database.CreateAppDatabaseAsync(name);
        await QueryCacheMigrator.MigrateAsync(cs, DatabaseFixture.Dimensions);
        await History.SeedAsync(cs, 10);
        await using (var provider = DatabaseFixture.BuildServices(cs, generator: new CountingEmbeddingGenerator()))
        {
            await provider.GetRequiredService<IQueryCacheService>().PopulateFromExistingAsync();
        }

        await using var connection = new NpgsqlConnection(cs);
        var sources = (await connection.QueryAsync<Source>("""
            SELECT id AS "Entry", user_message_id AS "UserMessage", assistant_message_id AS "AssistantMessage"
            FROM askwealth.query_cache_embeddings ORDER BY id
            """)).ToList();
        Assert.True(sources.Count >= 6, $"the backfill cached {sources.Count} pairs");
        return (cs, sources);
    }

    private static async Task<long[]> EntriesAsync(NpgsqlConnection connection) =>
        (await connection.QueryAsync<long>("SELECT id FROM askwealth.query_cache_embeddings ORDER BY id")).ToArray();

    [Fact]
    public async Task Updating_or_deleting_a_cached_message_removes_its_entries_a_rollback_or_an_unrelated_change_removes_nothing()
    {
        var (cs, sources) = await BackfilledAsync(Database, "follow");
        await QueryCacheMigrator.InstallMessageTriggersAsync(cs);
        await QueryCacheMigrator.InstallMessageTriggersAsync(cs); // idempotent
        await using var connection = new NpgsqlConnection(cs);
        await connection.OpenAsync();
        var all = await EntriesAsync(connection);

        // Unrelated changes: another column of a cached message, a content "change" to the same text, a system message, a new message.
        await connection.ExecuteAsync("UPDATE askwealth.message SET created_at = created_at + interval '1 second' WHERE id = @Id", new { Id = sources[0].UserMessage });
        await connection.ExecuteAsync("UPDATE askwealth.message SET content = content WHERE id = @Id", new { Id = sources[0].AssistantMessage });
        await connection.ExecuteAsync("DELETE FROM askwealth.message WHERE role = 'system' AND conversation_id = (SELECT conversation_id FROM askwealth.message WHERE id = @Id)",
            new { Id = sources[0].UserMessage });
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content)
            VALUES (gen_random_uuid(), gen_random_uuid(), 'tenant-1', 'user-1', 'user', 'A new question?')
            """);
        Assert.Equal(all, await EntriesAsync(connection));

        // Rolled back: nothing removed.
        await using (var transaction = await connection.BeginTransactionAsync())
        {
            await connection.ExecuteAsync("UPDATE askwealth.message SET content = 'edited' WHERE id = @Id", new { Id = sources[1].UserMessage }, transaction);
            await connection.ExecuteAsync("DELETE FROM askwealth.message WHERE id = @Id", new { Id = sources[2].AssistantMessage }, transaction);
            Assert.Equal(all.Length - 2, (await connection.QueryAsync<long>("SELECT id FROM askwealth.query_cache_embeddings", transaction: transaction)).Count());
            await transaction.RollbackAsync();
        }

        Assert.Equal(all, await EntriesAsync(connection));

        // Committed: the entry of an edited question, of an edited answer, of a deleted answer and of a deleted question go.
        await connection.ExecuteAsync("UPDATE askwealth.message SET content = 'How do I close my ISA?' WHERE id = @Id", new { Id = sources[1].UserMessage });
        await connection.ExecuteAsync("UPDATE askwealth.message SET rephrased_query = 'ISA closing' WHERE id = @Id", new { Id = sources[2].UserMessage });
        await connection.ExecuteAsync("UPDATE askwealth.message SET content = 'A corrected answer' WHERE id = @Id", new { Id = sources[3].AssistantMessage });
        await connection.ExecuteAsync("DELETE FROM askwealth.message WHERE id = ANY(@Ids)", new { Ids = new[] { sources[4].AssistantMessage, sources[5].UserMessage } });
        var gone = sources.Skip(1).Take(5).Select(s => s.Entry).ToHashSet();
        Assert.Equal(all.Where(id => !gone.Contains(id)).ToArray(), await EntriesAsync(connection));
        Assert.Equal(all.Length - 5, await connection.ExecuteScalarAsync<long>(
            "SELECT coalesce(sum(entries), 0)::bigint FROM askwealth.query_cache_tenant_sizes"));

        // Removed: the cache no longer follows the messages.
        await QueryCacheMigrator.RemoveMessageTriggersAsync(cs);
        await connection.ExecuteAsync("DELETE FROM askwealth.message WHERE id = @Id", new { Id = sources[0].UserMessage });
        Assert.Equal(all.Length - 5, (await EntriesAsync(connection)).Length);
    }

    [Fact]
    public async Task Truncating_the_message_table_removes_the_entries_made_from_messages_only()
    {
        var (cs, sources) = await BackfilledAsync(Database, "follow_truncate");
        await QueryCacheMigrator.InstallMessageTriggersAsync(cs);
        await using (var provider = DatabaseFixture.BuildServices(cs))
        {
            await provider.GetRequiredService<IQueryCacheService>().AddToCacheAsync(new CacheEntry
            {
                Scope = new CacheScope("tenant-1"), QueryText = "Stored by hand", Answer = "kept", Embedding = Vectors.Random(new Random(3)),
            });
        }

        await using var connection = new NpgsqlConnection(cs);
        await connection.ExecuteAsync("TRUNCATE askwealth.message");
        Assert.Equal(["Stored by hand"], await connection.QueryAsync<string>("SELECT query_text FROM askwealth.query_cache_embeddings"));
    }

    [Fact]
    public async Task Installing_without_the_message_table_says_what_to_do()
    {
        var cs = await Database.CreateDatabaseAsync("follow_no_table");
        await QueryCacheMigrator.MigrateAsync(cs, DatabaseFixture.Dimensions);
        var error = await Assert.ThrowsAsync<PostgresException>(() => QueryCacheMigrator.InstallMessageTriggersAsync(cs));
        Assert.Contains("askwealth.message does not exist", error.MessageText);
        Assert.Contains("sample-app-schema.sql", error.Hint);
        await QueryCacheMigrator.RemoveMessageTriggersAsync(cs); // nothing to remove: not an error
    }
}
