using JobDedup.Concurrency.Rewriter;

return CallRouting.Run(args, Console.Out, Console.Error);
