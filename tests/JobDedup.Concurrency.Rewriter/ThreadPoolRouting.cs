using Mono.Cecil;
using Mono.Cecil.Cil;

namespace JobDedup.Concurrency.Rewriter;

/// <summary>
/// Rewrites an assembly so that every <c>ThreadPool.UnsafeQueueUserWorkItem(IThreadPoolWorkItem, bool)</c> call runs
/// the work item through <c>Task.Run</c> instead. Coyote 1.7.11 controls <c>Task.Run</c> but not the thread pool's
/// work items: without this, work queued that way runs outside the testing engine, where Coyote's controlled
/// primitives (a rewritten <c>SemaphoreSlim</c>, say) fail. The work still runs once, on a pool thread, later.
/// </summary>
internal static class ThreadPoolRouting
{
    private const string ShimNamespace = "JobDedup.Concurrency";
    private const string ShimName = "ControlledThreadPool";

    /// <summary>Rewrites each assembly named in <paramref name="args"/> in place.</summary>
    /// <returns>The exit code: 0 when every assembly was read and written.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length == 0)
        {
            error.WriteLine("usage: JobDedup.Concurrency.Rewriter <assembly.dll>...");
            return 2;
        }

        foreach (var path in args)
        {
            if (!File.Exists(path))
            {
                error.WriteLine($"{path}: no such assembly");
                return 1;
            }

            var routed = Rewrite(path);
            output.WriteLine($"{path}: {routed} thread-pool work item call(s) routed through Task.Run");
        }

        return 0;
    }

    private static int Rewrite(string path)
    {
        var symbols = File.Exists(Path.ChangeExtension(path, ".pdb"));
        using var assembly = AssemblyDefinition.ReadAssembly(path, new ReaderParameters { InMemory = true, ReadSymbols = symbols });
        var module = assembly.MainModule;
        if (module.GetType(ShimNamespace, ShimName) is not null)
        {
            return 0; // already rewritten
        }

        var calls = (
            from type in module.GetTypes()
            from method in type.Methods
            where method.HasBody
            from instruction in method.Body.Instructions
            where instruction.OpCode == OpCodes.Call && IsUnsafeQueueOfWorkItem(instruction.Operand as MethodReference)
            select instruction).ToList();
        if (calls.Count == 0)
        {
            return 0;
        }

        var shim = AddShim(module, (MethodReference)calls[0].Operand);
        foreach (var call in calls)
        {
            call.Operand = shim;
        }

        assembly.Write(path, new WriterParameters { WriteSymbols = symbols });
        return calls.Count;
    }

    private static bool IsUnsafeQueueOfWorkItem(MethodReference? method) =>
        method is { Name: "UnsafeQueueUserWorkItem", DeclaringType.FullName: "System.Threading.ThreadPool", Parameters.Count: 2 } &&
        method.Parameters[0].ParameterType.FullName == "System.Threading.IThreadPoolWorkItem";

    /// <summary>Adds <c>static bool ControlledThreadPool.UnsafeQueueUserWorkItem(IThreadPoolWorkItem item, bool preferLocal)</c>.</summary>
    private static MethodDefinition AddShim(ModuleDefinition module, MethodReference original)
    {
        var types = module.TypeSystem;
        var runtime = module.AssemblyReferences.FirstOrDefault(static reference => reference.Name == "System.Runtime")
            ?? throw new InvalidOperationException($"{module.Name} does not reference System.Runtime, where Task and Action live.");
        var workItem = original.Parameters[0].ParameterType;
        var task = new TypeReference("System.Threading.Tasks", "Task", module, runtime);
        var action = new TypeReference("System", "Action", module, runtime);

        var execute = new MethodReference("Execute", types.Void, workItem) { HasThis = true };
        var actionConstructor = new MethodReference(".ctor", types.Void, action) { HasThis = true };
        actionConstructor.Parameters.Add(new ParameterDefinition(types.Object));
        actionConstructor.Parameters.Add(new ParameterDefinition(types.IntPtr));
        var run = new MethodReference("Run", task, task);
        run.Parameters.Add(new ParameterDefinition(action));

        var type = new TypeDefinition(
            ShimNamespace,
            ShimName,
            TypeAttributes.NotPublic | TypeAttributes.Abstract | TypeAttributes.Sealed | TypeAttributes.Class,
            types.Object);
        var method = new MethodDefinition(
            "UnsafeQueueUserWorkItem",
            MethodAttributes.Assembly | MethodAttributes.Static | MethodAttributes.HideBySig,
            types.Boolean);
        method.Parameters.Add(new ParameterDefinition("item", ParameterAttributes.None, workItem));
        method.Parameters.Add(new ParameterDefinition("preferLocal", ParameterAttributes.None, types.Boolean));

        var il = method.Body.GetILProcessor();
        il.Emit(OpCodes.Ldarg_0);
        il.Emit(OpCodes.Dup);
        il.Emit(OpCodes.Ldvirtftn, execute);
        il.Emit(OpCodes.Newobj, actionConstructor);
        il.Emit(OpCodes.Call, run);
        il.Emit(OpCodes.Pop);
        il.Emit(OpCodes.Ldc_I4_1);
        il.Emit(OpCodes.Ret);

        type.Methods.Add(method);
        module.Types.Add(type);
        return method;
    }
}
