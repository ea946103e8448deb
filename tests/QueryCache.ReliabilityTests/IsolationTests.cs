using Microsoft.Extensions.DependencyInjection;
using QueryCache.Tests.Infrastructure;

namespace QueryCache.ReliabilityTests;

/// <summary>Property-style: over random tenants, users and vectors, no lookup ever returns another tenant's entry or another user's private one.</summary>
public sealed class IsolationTests(DatabaseFixture database) : DatabaseTest(database)
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task No_lookup_crosses_a_tenant_or_a_private_user_boundary(int seed)
    {
        var rng = new Random(seed);
        var tenants = Enumerable.Range(0, 1 + rng.Next(2, 6)).Select(i => i == 0 ? "big" : $"t{seed}-{i}'; --").ToArray();
        var users = new string?[] { null, null, "alice", "bob", "carol" };
        var entries = new List<SeedEntry>();
        for (var i = 0; i < 3000; i++)
        {
            // One big tenant (most rows, read through HNSW) and small ones (read exactly), as in real traffic.
            var tenant = rng.NextDouble() < 0.8 ? "big" : tenants[1 + rng.Next(tenants.Length - 1)];
            entries.Add(new SeedEntry(tenant, users[rng.Next(users.Length)], Vectors.Random(rng), $"q{i}"));
        }

        // Every tenant and user holds a copy of the same few vectors: the nearest entry overall is always someone else's.
        var shared = Enumerable.Range(0, 5).Select(_ => Vectors.Random(rng)).ToList();
        foreach (var tenant in tenants)
        {
            foreach (var user in users.Distinct())
            {
                entries.AddRange(shared.Select((v, k) => new SeedEntry(tenant, user, v, $"shared {k} {tenant} {user}")));
            }
        }

        await TestData.InsertEntriesAsync(Database.ConnectionString, entries, rebuildIndex: true);
        var owners = entries.ToDictionary(e => e.QueryText);

        await using var provider = Database.BuildServices();
        var cache = provider.GetRequiredService<QueryCacheService>();
        var hits = 0;
        for (var i = 0; i < 400; i++)
        {
            var source = rng.Next(3) == 0 ? shared[rng.Next(shared.Count)] : entries[rng.Next(entries.Count)].Embedding;
            var asker = new CacheScope(tenants[rng.Next(tenants.Length)], users[rng.Next(users.Length)]);
            var hit = await cache.CheckCacheAsync(Vectors.AtSimilarity(source, 0.9 + 0.1 * rng.NextDouble(), rng), asker, 0.0);
            if (hit is null)
            {
                continue;
            }

            hits++;
            var owner = owners[hit.QueryText];
            Assert.Equal(asker.TenantId, owner.TenantId);
            Assert.True(owner.UserId is null || owner.UserId == asker.UserId, $"{asker} was answered by {owner.UserId}'s private entry");
        }

        Assert.True(hits > 300, $"only {hits} of 400 lookups found anything");
    }
}
