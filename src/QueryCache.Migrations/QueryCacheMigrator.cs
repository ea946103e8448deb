using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;
using QueryCache.Data;

namespace QueryCache.Migrations;

/// <summary>Applies the QueryCache migrations from code: the same result as <c>dotnet ef database update</c>.</summary>
public static class QueryCacheMigrator
{
    // Serializes migrators across processes: two app instances starting together each see the other's migrations.
    private const long MigrationLockKey = 0x5143_0000;

    /// <summary>
    /// Migrates the database to <paramref name="targetMigration"/> (the latest when null; "0" removes everything the
    /// migrations created). Safe to call from several processes at once: they take turns on a PostgreSQL advisory lock.
    /// </summary>
    /// <param name="connectionString">The application database.</param>
    /// <param name="dimensions">The embedding dimension the embedding column is created with.</param>
    /// <param name="precision">How the embedding column stores each dimension (applied by the migration that creates or converts it).</param>
    /// <param name="targetMigration">Migration name or id to move to; null for the latest.</param>
    /// <param name="cancellationToken">Cancels the migration between statements.</param>
    public static async Task MigrateAsync(string connectionString, int dimensions = QueryCacheSchema.DefaultDimensions,
        EmbeddingPrecision precision = EmbeddingPrecision.Half, string? targetMigration = null, CancellationToken cancellationToken = default)
    {
        // Unpooled, so closing it really ends the session and with it the lock; no timeout while waiting for a turn.
        var lockConnection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, CommandTimeout = 0 }.ConnectionString);
        await using (lockConnection.ConfigureAwait(false))
        {
            await lockConnection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_lock({MigrationLockKey})", lockConnection);
            await using (lockCommand.ConfigureAwait(false))
            {
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            var context = QueryCacheDbContext.Create(connectionString, dimensions, precision);
            await using (context.ConfigureAwait(false))
            {
                await context.GetService<IMigrator>().MigrateAsync(targetMigration, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The dimension the embedding column was created with, or null when the database has no QueryCache schema yet. A
    /// model of another size cannot use the cache: migrate to "0" and back to rebuild it for the new size.
    /// </summary>
    /// <param name="connectionString">The application database.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static async Task<int?> GetMigratedDimensionsAsync(string connectionString, CancellationToken cancellationToken = default)
    {
        var connection = new NpgsqlConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = new NpgsqlCommand(
                $"SELECT atttypmod FROM pg_attribute WHERE attrelid = to_regclass('{QueryCacheSchema.Schema}.{QueryCacheSchema.Embeddings.Table}') AND attname = '{QueryCacheSchema.Embeddings.Embedding}'",
                connection);
            await using (command.ConfigureAwait(false))
            {
                return await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) as int?;
            }
        }
    }

    /// <summary>The idempotent SQL script of every migration, as <c>dotnet ef migrations script --idempotent</c> writes it.</summary>
    /// <param name="dimensions">The embedding dimension the script creates the embedding column with.</param>
    /// <param name="precision">How the script's embedding column stores each dimension.</param>
    public static string GenerateIdempotentScript(int dimensions = QueryCacheSchema.DefaultDimensions,
        EmbeddingPrecision precision = EmbeddingPrecision.Half)
    {
        using var context = QueryCacheDbContext.Create("Host=127.0.0.1", dimensions, precision);
        return context.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
    }

    /// <summary>
    /// Puts triggers on the app's <c>askwealth.message</c> table so that updating a cached message's content (or
    /// rephrased query), deleting it or truncating the table removes the entries made from it, in the same transaction.
    /// Idempotent. The migrations never touch the app's table; this is the opt-in step (SQL:
    /// <c>SELECT askwealth.query_cache_install_message_triggers()</c>).
    /// </summary>
    /// <param name="connectionString">The application database, migrated.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static Task InstallMessageTriggersAsync(string connectionString, CancellationToken cancellationToken = default) =>
        CallAsync(connectionString, QueryCacheSchema.Functions.InstallMessageTriggers, cancellationToken);

    /// <summary>Takes those triggers off the app's message table (SQL: <c>SELECT askwealth.query_cache_remove_message_triggers()</c>).</summary>
    /// <param name="connectionString">The application database, migrated.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static Task RemoveMessageTriggersAsync(string connectionString, CancellationToken cancellationToken = default) =>
        CallAsync(connectionString, QueryCacheSchema.Functions.RemoveMessageTriggers, cancellationToken);

    /// <summary>
    /// Turns row-level security on for every cache table with a tenant (SQL: <c>SELECT
    /// askwealth.query_cache_enable_row_level_security()</c>): a session then sees only the tenant it declared. Run it as
    /// the tables' owner; the owner, superusers and BYPASSRLS roles are not restricted.
    /// </summary>
    /// <param name="connectionString">The application database, migrated, as the tables' owner.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static Task EnableRowLevelSecurityAsync(string connectionString, CancellationToken cancellationToken = default) =>
        CallAsync(connectionString, QueryCacheSchema.Functions.EnableRowLevelSecurity, cancellationToken);

    /// <summary>Turns row-level security off again (SQL: <c>SELECT askwealth.query_cache_disable_row_level_security()</c>); no row is touched.</summary>
    /// <param name="connectionString">The application database, migrated, as the tables' owner.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static Task DisableRowLevelSecurityAsync(string connectionString, CancellationToken cancellationToken = default) =>
        CallAsync(connectionString, QueryCacheSchema.Functions.DisableRowLevelSecurity, cancellationToken);

    /// <summary>
    /// Grants a login role what the service needs at run time and nothing more (SQL: <c>SELECT
    /// askwealth.query_cache_grant_to('role')</c>): no DDL, no ownership, no BYPASSRLS.
    /// </summary>
    /// <param name="connectionString">The application database, migrated, as the tables' owner.</param>
    /// <param name="role">An existing login role that is neither a superuser nor BYPASSRLS.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    public static Task GrantToAsync(string connectionString, string role, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(role);
        return CallAsync(connectionString, QueryCacheSchema.Functions.GrantTo, cancellationToken, role);
    }

    private static async Task CallAsync(string connectionString, string function, CancellationToken cancellationToken, string? argument = null)
    {
        var connection = new NpgsqlConnection(connectionString);
        await using (connection.ConfigureAwait(false))
        {
            await connection.OpenAsync(cancellationToken).ConfigureAwait(false);
            var command = new NpgsqlCommand($"SELECT {QueryCacheSchema.Schema}.{function}({(argument is null ? "" : "$1")})", connection);
            await using (command.ConfigureAwait(false))
            {
                if (argument is not null)
                {
                    command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = argument });
                }

                await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
