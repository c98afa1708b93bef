import { describe, expect, it } from 'vitest';
import { chooseRoute, routeQuestion } from '../../src/main/core/chat/route-question';

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
  // VQAv2-style fragments without a question word
  ['color of the sky', 'blip'],
  ['Colour of her dress?', 'blip'],
  ['number of people', 'blip'],
  ['the number of dogs on the beach', 'blip'],
  ['type of dog', 'blip'],
  ['kind of animal', 'blip'],
  ['breed of the cat', 'blip'],
  ['time of day', 'blip'],
  ['what color is the bus in the background', 'blip'],
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
  ['type of story you would tell about this', 'llava'],
  ['colourful, isn’t it', 'llava'],
];

describe('routeQuestion', () => {
  it.each(table)('%s → %s', (question, expected) => {
    expect(routeQuestion(question).route).toBe(expected);
  });

  it('explains its choice', () => {
    expect(routeQuestion('How many cats?').reason).toBe('counting question');
    expect(routeQuestion('Why so serious?').reason).toContain('why');
  });

  it('reads VQAv2 fragments as the question they stand for', () => {
    expect(routeQuestion('number of people').reason).toBe('counting question');
    expect(routeQuestion('color of the sky').reason).toBe('colour question');
  });
});

describe('chooseRoute', () => {
  it('lets a forced route win, then a named model, then the wording', () => {
    expect(chooseRoute('Tell a story about this photo', { namedModel: 'blip' }).route).toBe('blip');
    expect(chooseRoute('how many dogs?', { requested: 'llava', namedModel: 'blip' }).route).toBe('llava');
    expect(chooseRoute('Tell a story about this photo', { requested: 'auto' }).route).toBe('llava');
    expect(chooseRoute('how many dogs?').route).toBe('blip');
  });
});
