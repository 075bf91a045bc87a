import PodMonitor

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

exit(MonitorMain.run(Array(CommandLine.arguments.dropFirst())))
