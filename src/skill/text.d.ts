// Markdown files are imported as plain text (`with { type: "text" }`), which is how the skill
// ships inside the compiled executable.
declare module "*.md" {
  const text: string;
  export default text;
}

declare module "*/LICENSE" {
  const text: string;
  export default text;
}
