using System.Runtime.ExceptionServices;

namespace GpuNet.Backends.Cpu;

/// <summary>One part of a parallel loop: a struct, copied once per call into a per-thread box, so dispatching allocates nothing.</summary>
internal interface IPartBody
{
    void Run(int part);
}

/// <summary>
/// Runs the parts of a loop on the calling thread and <c>ProcessorCount - 1</c> long-lived worker threads,
/// without allocating: the replacement for <c>Parallel.For</c> inside a training step, which allocated its
/// closure and loop state on every call (3.5 KB per step of the lecture model at batch 64).
/// </summary>
/// <remarks>
/// <para>
/// A call publishes its body (boxed once per thread and body type, then reused) and a 64-bit ticket
/// <c>[generation:32][parts:16][next:16]</c>. Every participant, the caller included, claims parts by a
/// compare-and-swap on the ticket that only succeeds while the ticket still belongs to the same call and has
/// unclaimed parts, so a worker that wakes late can never run a part of a finished call, or a new call's part
/// with the old body: bodies alternate between two slots by generation parity, and generation g + 2 (which
/// reuses g's slot) cannot start before every part of g + 1, and so of g, was claimed and finished.
/// </para>
/// <para>
/// Workers spin on the ticket for a short while after their last part (training steps issue parallel calls
/// back to back), then block on a semaphore that each call releases. One call runs at a time: a call made while
/// the pool is busy (another thread's, or a part's own nested call) runs all its parts on its own thread. An exception in a part is rethrown
/// on the calling thread after every part has finished.
/// </para>
/// </remarks>
internal static class WorkerPool
{
    private abstract class WorkItem
    {
        public abstract void RunPart(int part);
    }

    private sealed class Box<T> : WorkItem where T : struct, IPartBody
    {
        [ThreadStatic] private static Box<T>? t_box;

        public T Body;

        public static Box<T> ForThisThread(in T body)
        {
            var box = t_box ??= new Box<T>();
            box.Body = body;
            return box;
        }

        public override void RunPart(int part) => Body.Run(part);
    }

    private const int MaxParts = ushort.MaxValue;

    /// <summary>
    /// How long an idle worker polls for the next call before it blocks: 2 ms, longer than a small training
    /// step, so that the next step's calls find it awake (OpenMP runtimes spin for 200 ms by default). Waking a
    /// blocked worker costs the caller tens of microseconds on a VM (measured: a 109,386-parameter optimizer
    /// update split in two took a 53 us step to 108 us when it had to wake the worker every step).
    /// </summary>
    private static readonly long SpinTicks = System.Diagnostics.Stopwatch.Frequency / 500;

    private static int _busy;
    private static int _sleeping;
    private static readonly SemaphoreSlim Signal = new(0, int.MaxValue);
    private static readonly WorkItem?[] Slots = new WorkItem?[2];
    private static readonly int Workers = Math.Max(0, Environment.ProcessorCount - 1);
    private static long _ticket;
    private static int _pending;
    private static uint _generation;
    private static Exception? _failure;
    private static int _started;

    /// <summary>Worker threads the pool runs besides the caller.</summary>
    public static int WorkerCount => Workers;

    /// <summary>Runs <c>body.Run(p)</c> for every p in [0, <paramref name="parts"/>), in parallel, and returns when all have finished.</summary>
    /// <param name="wakeSleepers">
    /// False for work too small to pay for waking a blocked worker: it then runs in parallel only when a worker
    /// is still awake (polling after a recent call), and on the calling thread otherwise.
    /// </param>
    public static void Run<T>(int parts, in T body, bool wakeSleepers = true) where T : struct, IPartBody
    {
        if (parts <= 0) return;
        bool inline = parts == 1 || Workers == 0 || parts > MaxParts || (!wakeSleepers && Volatile.Read(ref _sleeping) >= Workers);
        // A flag, not a Monitor: a part that itself calls Run (or another thread's call) must not re-enter the ticket.
        if (inline || Interlocked.CompareExchange(ref _busy, 1, 0) != 0)
        {
            var local = body;
            for (int p = 0; p < parts; p++) local.Run(p);
            return;
        }
        try
        {
            EnsureStarted();
            uint generation = ++_generation;
            var box = Box<T>.ForThisThread(body);
            Slots[generation & 1] = box;
            _failure = null;
            Volatile.Write(ref _pending, parts);
            Volatile.Write(ref _ticket, ((long)generation << 32) | ((long)parts << 16));
            if (wakeSleepers) WakeSleepers(parts - 1); // else only workers already awake join

            Participate();
            var spin = new SpinWait();
            while (Volatile.Read(ref _pending) != 0) spin.SpinOnce(sleep1Threshold: -1);

            // No reference to the caller's buffers outlives the call.
            Slots[generation & 1] = null;
            box.Body = default;
            if (_failure is { } failure)
            {
                _failure = null;
                ExceptionDispatchInfo.Capture(failure).Throw();
            }
        }
        finally
        {
            Volatile.Write(ref _busy, 0);
        }
    }

    /// <summary>
    /// Wakes up to <paramref name="wanted"/> blocked workers, taking them off the sleeping count as it releases
    /// them, so the semaphore never holds more permits than workers wait for (spinning workers need none).
    /// </summary>
    private static void WakeSleepers(int wanted)
    {
        while (true)
        {
            int sleeping = Volatile.Read(ref _sleeping);
            int wake = Math.Min(sleeping, wanted);
            if (wake == 0) return;
            if (Interlocked.CompareExchange(ref _sleeping, sleeping - wake, sleeping) == sleeping)
            {
                Signal.Release(wake);
                return;
            }
        }
    }

    /// <summary>Claims and runs parts of the current call until none is left; true if it ran any.</summary>
    private static bool Participate()
    {
        bool ran = false;
        while (true)
        {
            long ticket = Volatile.Read(ref _ticket);
            int parts = (int)((ticket >> 16) & 0xFFFF), next = (int)(ticket & 0xFFFF);
            if (next >= parts) return ran;
            if (Interlocked.CompareExchange(ref _ticket, ticket + 1, ticket) != ticket) continue;
            // The claim succeeded, so this call is still running and its body is in its slot.
            var item = Volatile.Read(ref Slots[(uint)(ticket >> 32) & 1])!;
            try
            {
                item.RunPart(next);
            }
            catch (Exception e)
            {
                Interlocked.CompareExchange(ref _failure, e, null);
            }
            Interlocked.Decrement(ref _pending);
            ran = true;
        }
    }

    private static void EnsureStarted()
    {
        if (_started != 0) return;
        _started = 1;
        for (int i = 0; i < Workers; i++)
            new Thread(WorkerLoop) { IsBackground = true, Name = $"GpuNet CPU worker {i + 1}" }.Start();
    }

    private static void WorkerLoop()
    {
        while (true)
        {
            Interlocked.Increment(ref _sleeping);
            Signal.Wait();
            // Run this call's parts, then keep polling for a while: the next call of a training step usually follows soon.
            long lastWork = System.Diagnostics.Stopwatch.GetTimestamp();
            while (System.Diagnostics.Stopwatch.GetTimestamp() - lastWork < SpinTicks)
            {
                if (Participate()) lastWork = System.Diagnostics.Stopwatch.GetTimestamp();
                else Thread.SpinWait(20);
            }
        }
    }
}
