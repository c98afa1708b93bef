import { describe, expect, it } from 'vitest';
import { routeQuestion } from '../../src/main/core/chat/route-question';

const table: [string, 'blip' | 'llava'][] = [
  // counting
  ['How many people are wearing glasses?', 'blip'],
  ['how many dogs are there', 'blip'],
  // yes/no
  ['Is there a dog on the couch?', 'blip'],
  ['Are the lights on?', 'blip'],
  ['Does the man wear a hat?', 'blip'],
  ['Can you see the sea?', 'blip'],
  // colour
  ['What colour is the car?', 'blip'],
  ['what color are her shoes?', 'blip'],
  // what/which/where/who about an object
  ['What is on the table?', 'blip'],
  ['Which animal is this?', 'blip'],
  ['Where is the cat?', 'blip'],
  ["What's in the bowl?", 'blip'],
  ['Who is holding the umbrella?', 'blip'],
  // open-ended
  ['Do you think this scene takes place in the past or the future?', 'llava'],
  ['Tell a story based on this image', 'llava'],
  ['Describe the photo in detail.', 'llava'],
  ['Why is the man smiling?', 'llava'],
  ['What might happen next?', 'llava'],
  ['What is the mood of this picture?', 'llava'],
  ['Is this a good photo for a birthday card, and why?', 'llava'],
  ['Write a caption for Instagram', 'llava'],
  ['Explain what is going on here', 'llava'],
  ['hello!', 'llava'],
  ['The light is lovely. What lens was this taken with, do you reckon?', 'llava'],
  ['What are all the objects that can be seen on the shelf behind the woman in the red coat?', 'llava'],
];

describe('routeQuestion', () => {
  it.each(table)('%s → %s', (question, expected) => {
    expect(routeQuestion(question).route).toBe(expected);
  });

  it('explains its choice', () => {
    expect(routeQuestion('How many cats?').reason).toBe('counting question');
    expect(routeQuestion('Why so serious?').reason).toContain('why');
  });
});
