using Dapper;
using Npgsql;

namespace QueryCache.Tests.Infrastructure;

/// <summary>Seeds the sample app's message table with a synthetic conversation history, server-side.</summary>
public static class History
{
    /// <summary>
    /// <paramref name="conversations"/> conversations over 5 tenants; conversation c has 1 + c % 3 questions, and every
    /// question whose (c + turn) is a multiple of 10 stays unanswered. A system message opens each conversation.
    /// Returns the number of answered questions (the Q&amp;A pairs the view must show).
    /// </summary>
    public static async Task<long> SeedAsync(string connectionString, int conversations)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.ExecuteAsync("""
            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, created_at)
            SELECT md5('system-' || c)::uuid, md5('conversation-' || c)::uuid, 'tenant-' || (c % 5), 'user-' || (c % 37),
                   'system', 'You are a wealth assistant.', timestamptz '2025-01-01' + make_interval(secs => c * 100)
            FROM generate_series(1, @Conversations) c;

            INSERT INTO askwealth.message (id, conversation_id, tenant_id, user_id, role, content, created_at)
            SELECT md5('message-' || c || '-' || t || '-' || r)::uuid, md5('conversation-' || c)::uuid, 'tenant-' || (c % 5),
                   'user-' || (c % 37), CASE WHEN r = 0 THEN 'user' ELSE 'assistant' END,
                   CASE WHEN r = 0 THEN 'How do I handle question ' || c || '.' || t || '?' ELSE 'Here is answer ' || c || '.' || t END,
                   timestamptz '2025-01-01' + make_interval(secs => c * 100 + t * 10 + r)
            FROM generate_series(1, @Conversations) c
            CROSS JOIN LATERAL generate_series(1, 1 + c % 3) t
            CROSS JOIN generate_series(0, 1) r
            WHERE NOT (r = 1 AND (c + t) % 10 = 0);
            """, new { Conversations = conversations }, commandTimeout: 120);
        return await connection.ExecuteScalarAsync<long>("""
            SELECT count(*) FROM generate_series(1, @Conversations) c CROSS JOIN LATERAL generate_series(1, 1 + c % 3) t
            WHERE (c + t) % 10 <> 0
            """, new { Conversations = conversations });
    }
}
