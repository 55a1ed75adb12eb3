import PackagePlugin
@main struct CheckArchitecture: CommandPlugin { func performCommand(context: PluginContext, arguments: [String]) throws {} }
