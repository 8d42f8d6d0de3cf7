using JobDedup.Concurrency.Rewriter;

return ThreadPoolRouting.Run(args, Console.Out, Console.Error);
