using System.Data;
using Dapper;
using Npgsql;
using Pgvector;

namespace QueryCache.Internal;

/// <summary>The data source the cache uses: the host's registered one, or one it builds (and disposes) from the connection string.</summary>
internal sealed class QueryCacheDataSource : IAsyncDisposable
{
    private readonly bool _owned;

    static QueryCacheDataSource() => SqlMapper.AddTypeHandler(new VectorTypeHandler());

    public QueryCacheDataSource(NpgsqlDataSource dataSource, bool owned)
    {
        DataSource = dataSource;
        _owned = owned;
    }

    public NpgsqlDataSource DataSource { get; }

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

    public ValueTask DisposeAsync() => _owned ? DataSource.DisposeAsync() : ValueTask.CompletedTask;

    /// <summary>Lets Dapper pass <see cref="Vector"/> parameters to Npgsql's pgvector plugin (binary). Registered once per process.</summary>
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
