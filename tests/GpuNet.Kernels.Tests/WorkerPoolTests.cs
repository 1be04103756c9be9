using GpuNet.Backends.Cpu;
using Xunit;

namespace GpuNet.Kernels.Tests;

/// <summary>The CPU backend's allocation-free worker pool: every part exactly once, errors surfaced, no deadlock, no garbage.</summary>
public class WorkerPoolTests
{
    private readonly struct CountParts(int[] counts, int offset) : IPartBody
    {
        public void Run(int part) => Interlocked.Increment(ref counts[offset + part]);
    }

    private readonly struct RecordThreads(int[] threadOfPart, int spinMicroseconds) : IPartBody
    {
        public void Run(int part)
        {
            threadOfPart[part] = Environment.CurrentManagedThreadId;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (clock.Elapsed.TotalMicroseconds < spinMicroseconds) Thread.SpinWait(10);
        }
    }

    private readonly struct ThrowAt(int failing, int[] counts) : IPartBody
    {
        public void Run(int part)
        {
            Interlocked.Increment(ref counts[part]);
            if (part == failing) throw new InvalidOperationException($"part {part} failed");
        }
    }

    private readonly struct Nested(int[] counts, int inner) : IPartBody
    {
        public void Run(int part) => WorkerPool.Run(inner, new CountParts(counts, part * inner));
    }

    [Fact]
    public void EveryPartRunsExactlyOnceOverManyCallsOfEveryShape()
    {
        for (int call = 0; call < 5000; call++)
        {
            int parts = 1 + call % 41;
            var counts = new int[parts];
            WorkerPool.Run(parts, new CountParts(counts, 0), wakeSleepers: call % 3 != 0);
            for (int p = 0; p < parts; p++)
                Assert.True(counts[p] == 1, $"call {call}: part {p} of {parts} ran {counts[p]} times");
        }
        WorkerPool.Run(0, new CountParts([], 0)); // nothing to do is fine
    }

    [Fact]
    public void TheWorkersTakePartsWhenThereAreAny()
    {
        if (WorkerPool.WorkerCount == 0) return; // a one-core machine runs every part on the caller, as asserted above
        // Another test may hold the pool (its calls then run on their own thread), so try a few times.
        for (int attempt = 0; attempt < 50; attempt++)
        {
            var threads = new int[8];
            WorkerPool.Run(threads.Length, new RecordThreads(threads, 500));
            Assert.DoesNotContain(0, threads);
            if (threads.Distinct().Count() > 1) return;
        }
        Assert.Fail("50 calls of 8 parts of 0.5 ms each all ran on the calling thread.");
    }

    [Fact]
    public void AnExceptionInAPartReachesTheCallerAfterEveryPartRanAndThePoolStillWorks()
    {
        var counts = new int[16];
        var e = Assert.Throws<InvalidOperationException>(() => WorkerPool.Run(16, new ThrowAt(5, counts)));
        Assert.Equal("part 5 failed", e.Message);
        Assert.All(counts, c => Assert.Equal(1, c));

        var after = new int[16];
        WorkerPool.Run(16, new CountParts(after, 0));
        Assert.All(after, c => Assert.Equal(1, c));
    }

    [Fact]
    public void ACallFromInsideAPartRunsInlineInsteadOfDeadlocking()
    {
        var counts = new int[6 * 7];
        WorkerPool.Run(6, new Nested(counts, 7));
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void CallsFromSeveralThreadsAtOnceEachRunAllTheirParts()
    {
        const int callers = 4, calls = 2000, parts = 9;
        var counts = new int[callers * calls * parts];
        var threads = Enumerable.Range(0, callers).Select(t => new Thread(() =>
        {
            for (int i = 0; i < calls; i++)
                WorkerPool.Run(parts, new CountParts(counts, (t * calls + i) * parts));
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => Assert.True(t.Join(TimeSpan.FromMinutes(2)), "a caller did not finish within 2 minutes"));
        Assert.All(counts, c => Assert.Equal(1, c));
    }

    [Fact]
    public void ACallAllocatesNothingOnTheCallingThread()
    {
        var counts = new int[32];
        var body = new CountParts(counts, 0);
        for (int i = 0; i < 100; i++) WorkerPool.Run(32, body); // warm up: the per-thread box, JIT
        var windows = new long[3];
        for (int w = 0; w < windows.Length; w++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < 200; i++) WorkerPool.Run(32, body);
            windows[w] = GC.GetAllocatedBytesForCurrentThread() - before;
        }
        Assert.True(windows.Min() == 0, $"bytes allocated by 200 calls, three windows: {string.Join(", ", windows)}");
    }
}
