using System.Text.RegularExpressions;
using Mono.Cecil;
using Mono.Cecil.Cil;

namespace JobDedup.Concurrency.Rewriter;

/// <summary>
/// Points an assembly's calls to BCL threading methods that Coyote 1.7.11 does not control
/// (<c>ThreadPool.UnsafeQueueUserWorkItem</c>, <c>Task.ContinueWith</c>, <c>Task.WaitAsync</c>, <c>Channel.CreateBounded</c>,
/// <c>System.Threading.Lock</c>) at the static stand-ins of <c>JobDedup.Concurrency.Controlled</c>, matched by signature. Without this, work queued that way
/// runs outside the testing engine, where Coyote's controlled primitives (a rewritten <c>SemaphoreSlim</c>, say) fail,
/// and continuations completed there leave the engine reporting hangs that are not there.
/// </summary>
internal static class CallRouting
{
    private static readonly string[] StandInTypes =
    [
        "JobDedup.Concurrency.Controlled.ControlledCalls", "JobDedup.Concurrency.Controlled.ControlledLocks",
    ];

    /// <summary>The methods routed, by declaring type.</summary>
    private static readonly Dictionary<string, string[]> Routed = new(StringComparer.Ordinal)
    {
        ["System.Threading.ThreadPool"] = ["UnsafeQueueUserWorkItem"],
        ["System.Threading.Tasks.Task"] = ["ContinueWith", "WaitAsync"],
        ["System.Threading.Tasks.Task`1"] = ["ContinueWith", "WaitAsync"],
        ["System.Threading.Channels.Channel"] = ["CreateBounded", "CreateUnbounded"],
        ["System.Threading.Lock"] = ["EnterScope", "Enter", "TryEnter", "Exit", "get_IsHeldByCurrentThread"],
        ["System.Threading.Lock/Scope"] = ["Dispose"],
    };

    /// <summary>Rewrites each assembly after the first (the stand-ins' assembly) in place.</summary>
    /// <returns>The exit code: 0 when every assembly was read and written.</returns>
    public static int Run(string[] args, TextWriter output, TextWriter error)
    {
        if (args.Length < 2)
        {
            error.WriteLine("usage: JobDedup.Concurrency.Rewriter <JobDedup.Concurrency.Controlled.dll> <assembly.dll>...");
            return 2;
        }

        if (args.FirstOrDefault(static path => !File.Exists(path)) is { } missing)
        {
            error.WriteLine($"{missing}: no such assembly");
            return 1;
        }

        using var standInAssembly = AssemblyDefinition.ReadAssembly(args[0]);
        var standIns = StandInTypes.Select(name => standInAssembly.MainModule.GetType(name)).ToList();
        if (standIns.Any(static type => type is null))
        {
            error.WriteLine($"{args[0]}: lacks one of {string.Join(", ", StandInTypes)}");
            return 1;
        }

        foreach (var path in args.Skip(1))
        {
            var (routed, unmatched) = Rewrite(path, standIns.SelectMany(static type => type.Methods).ToList());
            output.WriteLine($"{path}: {routed} call(s) routed to controlled stand-ins");
            foreach (var call in unmatched)
            {
                output.WriteLine($"{path}: left as is (no stand-in): {call}");
            }
        }

        return 0;
    }

    private static (int Routed, List<string> Unmatched) Rewrite(string path, List<MethodDefinition> standIns)
    {
        var symbols = File.Exists(Path.ChangeExtension(path, ".pdb"));
        // Assemblies referenced by this one (JobDedup.Core by the transport) are found beside it.
        using var resolver = new DefaultAssemblyResolver();
        resolver.AddSearchDirectory(Path.GetDirectoryName(Path.GetFullPath(path)));
        using var assembly = AssemblyDefinition.ReadAssembly(path, new ReaderParameters { InMemory = true, ReadSymbols = symbols, AssemblyResolver = resolver });
        var module = assembly.MainModule;
        var routed = 0;
        var unmatched = new List<string>();
        foreach (var instruction in
            from type in module.GetTypes()
            from method in type.Methods
            where method.HasBody
            from instruction in method.Body.Instructions
            where (instruction.OpCode == OpCodes.Call || instruction.OpCode == OpCodes.Callvirt) && IsCandidate(instruction.Operand as MethodReference)
            select instruction)
        {
            var original = (MethodReference)instruction.Operand;
            if (FindStandIn(standIns, original) is not { } standIn)
            {
                unmatched.Add(original.FullName);
                continue;
            }

            MethodReference target = module.ImportReference(standIn);
            if (standIn.HasGenericParameters)
            {
                // The receiver's type arguments first, then the method's own, as the stand-ins declare them.
                var instance = new GenericInstanceMethod(target);
                foreach (var argument in TypeArguments(original).Concat(MethodArguments(original)))
                {
                    instance.GenericArguments.Add(argument);
                }

                target = instance;
            }

            instruction.OpCode = OpCodes.Call;
            instruction.Operand = target;
            routed++;
        }

        if (routed > 0)
        {
            assembly.Write(path, new WriterParameters { WriteSymbols = symbols });
        }

        return (routed, unmatched);
    }

    private static bool IsCandidate(MethodReference? method) =>
        method is not null &&
        Routed.TryGetValue(method.DeclaringType.GetElementType().FullName, out var names) &&
        names.Contains(method.Name, StringComparer.Ordinal);

    private static TypeReference[] TypeArguments(MethodReference method) =>
        method.DeclaringType is GenericInstanceType type ? [.. type.GenericArguments] : [];

    private static TypeReference[] MethodArguments(MethodReference method) =>
        method is GenericInstanceMethod instance ? [.. instance.GenericArguments] : [];

    /// <summary>
    /// Finds the stand-in whose parameters are the receiver (for an instance method) and then the original's, written
    /// as the call site writes them: the receiver type's generic parameters as !0, the method's as !!0.
    /// </summary>
    private static MethodDefinition? FindStandIn(List<MethodDefinition> standIns, MethodReference original)
    {
        var typeArity = TypeArguments(original).Length;
        var methodArity = MethodArguments(original).Length;
        var wanted = new List<string>();
        if (original.HasThis)
        {
            // A value type's instance method receives its receiver by reference.
            wanted.Add(
                typeArity == 1 ? "System.Threading.Tasks.Task`1<!0>"
                : original.DeclaringType.FullName == "System.Threading.Lock/Scope" ? "System.Threading.Lock/Scope&"
                : original.DeclaringType.FullName);
        }

        wanted.AddRange(original.Parameters.Select(static p => p.ParameterType.FullName));
        return standIns.FirstOrDefault(candidate =>
            candidate.Name == original.Name &&
            candidate.IsStatic &&
            candidate.GenericParameters.Count == typeArity + methodArity &&
            candidate.Parameters.Select(p => AsCallSite(p.ParameterType.FullName, candidate, typeArity)).SequenceEqual(wanted, StringComparer.Ordinal));
    }

    private static string AsCallSite(string typeName, MethodDefinition standIn, int typeArity)
    {
        foreach (var parameter in standIn.GenericParameters)
        {
            var position = parameter.Position < typeArity ? $"!{parameter.Position}" : $"!!{parameter.Position - typeArity}";
            typeName = Regex.Replace(typeName, $@"\b{Regex.Escape(parameter.Name)}\b", position);
        }

        return typeName;
    }
}
