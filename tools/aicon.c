/* placeholder until the command lands in this series */
int main(void) { return 0; }
