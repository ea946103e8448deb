using System.Data;
using Dapper;
using Microsoft.Extensions.Options;
using Npgsql;
using Pgvector;

namespace QueryCache.Internal;

/// <summary>
/// The databases the cache uses: the primary (the host's registered <see cref="NpgsqlDataSource"/> when there is one,
/// else one it builds from <see cref="QueryCacheOptions.ConnectionString"/> and disposes), and the optional read replica
/// from <see cref="QueryCacheOptions.ReadConnectionString"/>.
/// </summary>
internal sealed class CacheDataSource : IAsyncDisposable
{
    private readonly bool _owned;

    // Dapper's type handlers are process-wide: registered once, whatever the number of caches.
    static CacheDataSource() => SqlMapper.AddTypeHandler(new VectorTypeHandler());

    public CacheDataSource(IOptions<QueryCacheOptions> options, NpgsqlDataSource? hostDataSource = null)
    {
        _owned = hostDataSource is null;
        Primary = hostDataSource ?? Build(options.Value.ConnectionString!);
        SynchronousCommit = options.Value.AsynchronousCommit ? "off" : null;
        Standby = string.IsNullOrWhiteSpace(options.Value.ReadConnectionString) ? null : Build(options.Value.ReadConnectionString);
    }

    /// <summary>Where every write goes, and every read when there is no <see cref="Standby"/>.</summary>
    public NpgsqlDataSource Primary { get; }

    /// <summary>The read replica lookups prefer, or null.</summary>
    public NpgsqlDataSource? Standby { get; }

    /// <summary>The <c>synchronous_commit</c> of the cache's own writes: off, or null for the server's setting.</summary>
    public string? SynchronousCommit { get; }

    /// <summary>A data source as the cache builds it: pgvector types, auto-prepared statements, no reset round trip.</summary>
    public static NpgsqlDataSource Build(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        if (builder.ConnectionStringBuilder.MaxAutoPrepare == 0)
        {
            // Dapper does not prepare; auto-prepare gives the hot path server-side prepared statements.
            builder.ConnectionStringBuilder.MaxAutoPrepare = 32;
        }

        // The cache leaves no session state behind (its settings are function-local, its locks released explicitly), so
        // skip the reset round trip Npgsql otherwise runs when a pooled connection is reused.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        builder.UseVector();
        builder.Name = "QueryCache";
        return builder.Build();
    }

    public async ValueTask DisposeAsync()
    {
        if (Standby is not null)
        {
            await Standby.DisposeAsync().ConfigureAwait(false);
        }

        if (_owned)
        {
            await Primary.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Lets Dapper pass <see cref="Vector"/> parameters to Npgsql's pgvector plugin (binary). Pgvector.Dapper does this,
    /// but NuGet does not serve it to these machines; it would replace this class.
    /// </summary>
    private sealed class VectorTypeHandler : SqlMapper.TypeHandler<Vector>
    {
        public override Vector Parse(object value) => (Vector)value;

        public override void SetValue(IDbDataParameter parameter, Vector? value)
        {
            parameter.Value = (object?)value ?? DBNull.Value;
            if (parameter is NpgsqlParameter npgsql)
            {
                npgsql.DataTypeName = "vector";
            }
        }
    }
}
