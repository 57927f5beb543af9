// A module next to the caller, as it exists where the caller runs: `name.ts` under tsx (development, tests), `name.js`
// in the compiled build (dist/, `npm start`). For worker threads and the widget bundle, which load files by URL.
export function siblingModule(relativeName: string, callerUrl: string): URL {
  return new URL(`${relativeName}${callerUrl.endsWith('.ts') ? '.ts' : '.js'}`, callerUrl);
}
