using Xunit.Abstractions;

namespace Kata3.Tests.Infrastructure;

/// <summary>Marks a collection whose app stays up the longest: it starts before the others.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class StartsFirstAttribute : Attribute;

/// <summary>
/// Starts the collections marked <see cref="StartsFirstAttribute"/> first (apps take their slots in
/// that order), so the run does not end with one long app alone on a machine that runs two. The
/// others keep xunit's order.
/// </summary>
public sealed class LongestFirst : ITestCollectionOrderer
{
    private static readonly string Marker = typeof(StartsFirstAttribute).AssemblyQualifiedName!;

    public IEnumerable<ITestCollection> OrderTestCollections(IEnumerable<ITestCollection> testCollections) =>
        testCollections.OrderBy(c => c.CollectionDefinition?.GetCustomAttributes(Marker).Any() == true ? 0 : 1);
}
