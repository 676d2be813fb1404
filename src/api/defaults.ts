/** The output folder every command uses unless given another (it holds sim.db and logs/). */
export const DEFAULT_OUT = 'simulation_results';
