export async function cliMain(argv: string[]): Promise<void> {
  console.log("todo", argv);
}
